"""The relay publishes every committed outbox row exactly once, even with rivals and crashes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import SqlUnitOfWork, asyncpg_dsn
from surge_platform.messaging import HEADER_MESSAGE_ID, Topology
from surge_platform.outbox import OutboxRelay
from surge_platform.telemetry import PlatformMetrics
from surge_platform.testing.servers import NatsServer

from tests.support import wait_until

pytestmark = pytest.mark.integration


async def write_outbox(engine: AsyncEngine, subject: str, count: int, per_tx: int = 500) -> None:
    for start in range(0, count, per_tx):
        async with SqlUnitOfWork(engine) as uow:
            for n in range(start, min(count, start + per_tx)):
                uow.outbox.add(subject, StringValue(value=str(n)))
            await uow.commit()


async def stream_ids(js: JetStreamContext, stream: str, subject: str) -> list[str]:
    """Every message id in `stream`, read through an ephemeral ordered consumer."""
    info = await js.stream_info(stream)
    total = info.state.messages
    ids: list[str] = []
    sub = await js.subscribe(subject, ordered_consumer=True)
    try:
        while len(ids) < total:
            msg = await sub.next_msg(timeout=5)
            ids.append((msg.headers or {})[HEADER_MESSAGE_ID])
    finally:
        await sub.unsubscribe()
    return ids


async def outbox_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one())


async def test_two_relays_at_once_publish_each_row_exactly_once(
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    database_url: str,
    metrics: PlatformMetrics,
) -> None:
    subject = topology.event("inventory", "test_happened")
    await write_outbox(engine, subject, 2000)
    relays = [
        OutboxRelay(
            engine, js, listen_dsn=asyncpg_dsn(database_url), metrics=metrics, batch_size=50
        )
        for _ in range(2)
    ]

    published = await asyncio.gather(*(relay.drain() for relay in relays))

    assert sum(published) == 2000
    assert all(n > 0 for n in published), f"both relays should have taken work: {published}"
    ids = await stream_ids(js, topology.stream("inventory", "evt"), subject)
    assert len(ids) == 2000
    assert len(set(ids)) == 2000
    assert await outbox_count(engine) == 0


async def test_relay_wakes_on_notify_and_publishes_new_rows(
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    database_url: str,
    metrics: PlatformMetrics,
) -> None:
    subject = topology.event("billing", "woken")
    relay = OutboxRelay(
        engine, js, listen_dsn=asyncpg_dsn(database_url), metrics=metrics, poll_interval=30
    )
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        # run() LISTENs before its first drain, so rows written now are found either way.
        await write_outbox(engine, subject, 3)

        async def published() -> bool:
            info = await js.stream_info(topology.stream("billing", "evt"))
            return info.state.messages == 3

        # The poll interval is 30 s: only NOTIFY can make this pass in time.
        await wait_until(published, 5, "3 messages published")
    finally:
        stop.set()
        await running


RELAY_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from prometheus_client import CollectorRegistry
    from surge_platform.db import asyncpg_dsn, create_engine
    from surge_platform.messaging import connect
    from surge_platform.outbox import OutboxRelay
    from surge_platform.telemetry import PlatformMetrics

    async def main(url, nats_url):
        engine = create_engine(url)
        nc = await connect(nats_url, "doomed-relay")
        relay = OutboxRelay(engine, nc.jetstream(), listen_dsn=asyncpg_dsn(url),
                            metrics=PlatformMetrics(CollectorRegistry()), batch_size=500)
        print("ready", flush=True)
        await relay.drain()
        print("drained", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_relay_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    database_url: str,
    nats_server: NatsServer,
    metrics: PlatformMetrics,
) -> None:
    subject = topology.event("fulfillment", "crash_tested")
    stream = topology.stream("fulfillment", "evt")
    total = 20_000
    await write_outbox(engine, subject, total, per_tx=5000)
    doomed = subprocess.Popen(
        [sys.executable, "-c", RELAY_SCRIPT, database_url, nats_server.url],
        stdout=subprocess.DEVNULL,
        cwd=os.getcwd(),
    )

    async def some_published() -> bool:
        return (await js.stream_info(stream)).state.messages > 0

    await wait_until(some_published, 30, "the doomed relay to publish something")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(10)
    published_before_kill = (await js.stream_info(stream)).state.messages
    left_in_outbox = await outbox_count(engine)
    assert left_in_outbox > 0, "the relay finished before it was killed: test proved nothing"

    survivor = OutboxRelay(engine, js, listen_dsn=asyncpg_dsn(database_url), metrics=metrics)
    republished = await survivor.drain()

    ids = await stream_ids(js, stream, subject)
    assert len(ids) == total
    assert len(set(ids)) == total
    assert await outbox_count(engine) == 0
    # Rows published by the doomed relay but not deleted were sent again and deduplicated.
    assert republished >= total - published_before_kill
