"""A service's consumers, outbox relay and timers running inside the test's event loop.

For message-level integration tests: the same `build()` and the same consumer wiring as
`surge_platform.service.serve` (group commit included), on real PostgreSQL and NATS, with no
gRPC server and no subprocess. Migrate the database first.

    async with run_in_process(settings, bootstrap.build, backoff=(0.05, 0.1)) as service:
        await service.infra.js.publish(...)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from surge_platform.config import ServiceSettings
from surge_platform.db import asyncpg_dsn, create_engine
from surge_platform.messaging import Topology, connect
from surge_platform.outbox import OutboxRelay
from surge_platform.service import Build, Components, Infrastructure, consumer_for
from surge_platform.telemetry import PlatformMetrics

__all__ = ["InProcessService", "run_in_process"]


@dataclass(frozen=True)
class InProcessService:
    infra: Infrastructure
    components: Components


@contextlib.asynccontextmanager
async def run_in_process(
    settings: ServiceSettings,
    build: Build,
    *,
    backoff: Sequence[float] | None = None,
    timers: bool = True,
    relay_poll_interval: float = 0.2,
) -> AsyncIterator[InProcessService]:
    database_url = settings.database_url.get_secret_value()
    engine = create_engine(database_url, pool_size=10)
    nc = await connect(settings.nats_url, f"{settings.service_name}-test")
    js = nc.jetstream(timeout=10)
    topology = Topology(settings.nats_prefix)
    await topology.ensure_streams(js)
    registry = CollectorRegistry()
    metrics = PlatformMetrics(registry)
    infra = Infrastructure(settings, engine, nc, js, topology, registry, metrics)
    components = await build(infra)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(consumer_for(spec, infra, backoff).run(stop))
        for spec in components.consumers
    ]
    relay = OutboxRelay(
        engine,
        js,
        listen_dsn=asyncpg_dsn(database_url),
        metrics=metrics,
        poll_interval=relay_poll_interval,
    )
    tasks.append(asyncio.create_task(relay.run(stop)))
    if timers:
        tasks += [asyncio.create_task(timer(stop)) for _, timer in components.timers]
    try:
        yield InProcessService(infra, components)
    finally:
        stop.set()
        # Consumers notice `stop` between fetches (up to 1 s); cut the wait short.
        _, pending = await asyncio.wait(tasks, timeout=1.5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        with contextlib.suppress(Exception):
            await nc.drain()
        await engine.dispose()
