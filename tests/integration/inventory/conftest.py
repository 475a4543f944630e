"""The inventory service wired by its own `build()` on real PostgreSQL and NATS, in-process.

`start_inventory(**settings)` migrates a fresh database, builds the components, runs the
JetStream consumer, the outbox relay and the expiry timer as tasks, and collects every event the
service publishes, so a test publishes commands to JetStream and waits for the replies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.protobuf.message import Message
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.inventory.v1 import inventory_pb2 as pb
from surge_inventory import bootstrap
from surge_inventory.config import InventorySettings
from surge_inventory.domain.model import Sku, Warehouse
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork
from surge_platform.db import asyncpg_dsn, create_engine
from surge_platform.ids import new_id
from surge_platform.messaging import (
    HEADER_MESSAGE_ID,
    HEADER_TYPE,
    JetStreamConsumer,
    Topology,
    connect,
)
from surge_platform.migrations import migrate, migrations_of
from surge_platform.outbox import OutboxRelay
from surge_platform.service import Components, Infrastructure
from surge_platform.telemetry import PlatformMetrics
from surge_platform.testing.servers import NatsServer

from tests.support import wait_until

MIGRATIONS = migrations_of("surge_inventory")

pytestmark = pytest.mark.integration

EVENT_TYPES: dict[str, type[Message]] = {
    t.DESCRIPTOR.full_name: t
    for t in (
        pb.StockReserved,
        pb.StockRejected,
        pb.StockReleased,
        pb.ReservationCommitted,
        pb.ReservationConfirmed,
        pb.ReservationExpired,
    )
}


@dataclass(frozen=True)
class Level:
    on_hand: int
    reserved: int
    available: int


@dataclass
class Inventory:
    """A running inventory service and the replies it has published so far."""

    settings: InventorySettings
    engine: AsyncEngine
    js: JetStreamContext
    topology: Topology
    registry: CollectorRegistry
    events: list[Message] = field(default_factory=list)

    async def send(self, command: Message, message_id: str | None = None) -> str:
        """Publish a command to JetStream as the order service's outbox relay would."""
        message_id = message_id or new_id()
        await self.js.publish(
            self.topology.subject_for(command),
            command.SerializeToString(),
            headers={
                HEADER_MESSAGE_ID: message_id,
                HEADER_TYPE: command.DESCRIPTOR.full_name,
                "Nats-Msg-Id": message_id,
            },
        )
        return message_id

    def replies(self, kind: type[Message], order_id: str | None = None) -> list[Any]:
        return [
            e
            for e in self.events
            if isinstance(e, kind)
            and (order_id is None or getattr(e, "order_id", None) == order_id)
        ]

    async def reply(self, kind: type[Message], order_id: str, count: int = 1) -> Any:
        await wait_until(
            lambda: len(self.replies(kind, order_id)) >= count,
            15,
            f"{count} {kind.DESCRIPTOR.name} for {order_id}",
        )
        return self.replies(kind, order_id)[-1]

    async def any_reply(self, order_id: str) -> Message:
        """The first StockReserved or StockRejected for the order."""

        def decided() -> list[Message]:
            return [
                e
                for e in self.events
                if isinstance(e, pb.StockReserved | pb.StockRejected) and e.order_id == order_id
            ]

        await wait_until(lambda: bool(decided()), 15, f"a reserve reply for {order_id}")
        return decided()[0]

    async def add_warehouses(self, *warehouses: tuple[str, str]) -> None:
        async with InventoryUnitOfWork(self.engine) as uow:
            for code, region in warehouses:
                await uow.catalog.add_warehouse(Warehouse(code, f"{region} DC", region))
            await uow.commit()

    async def add_sku(self, code: str, stock: dict[str, int], *, active: bool = True) -> None:
        async with InventoryUnitOfWork(self.engine) as uow:
            await uow.catalog.add(Sku(code, code.title(), 1000, "CNY", 100, "test", active))
            for warehouse, units in stock.items():
                await uow.stock.seed(code, warehouse, units)
            await uow.commit()

    async def levels(self, sku: str) -> dict[str, Level]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT warehouse, on_hand, reserved, available FROM stock "
                        "WHERE sku = :sku ORDER BY warehouse"
                    ),
                    {"sku": sku},
                )
            ).all()
        return {r.warehouse: Level(r.on_hand, r.reserved, r.available) for r in rows}

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one()

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0


StartInventory = Callable[..., Awaitable[Inventory]]


@pytest.fixture
async def start_inventory(
    database_url: str, nats_server: NatsServer, nats_prefix: str
) -> AsyncIterator[StartInventory]:
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    cleanups: list[Callable[[], Awaitable[Any]]] = []

    async def start(**overrides: Any) -> Inventory:
        await asyncio.to_thread(migrate, MIGRATIONS, database_url)
        settings = InventorySettings(
            database_url=database_url,
            nats_url=nats_server.url,
            nats_prefix=nats_prefix,
            **overrides,
        )
        engine = create_engine(database_url, pool_size=10)
        cleanups.append(engine.dispose)
        nc: NatsClient = await connect(nats_server.url, "inventory-test")
        cleanups.append(nc.drain)
        js = nc.jetstream()
        topology = Topology(nats_prefix)
        await topology.ensure_streams(js)
        registry = CollectorRegistry()
        metrics = PlatformMetrics(registry)
        infra = Infrastructure(settings, engine, nc, js, topology, registry, metrics)
        components: Components = await bootstrap.build(infra)
        inventory = Inventory(settings, engine, js, topology, registry)

        async def collect(msg: Msg) -> None:
            kind = EVENT_TYPES.get((msg.headers or {}).get(HEADER_TYPE, ""))
            if kind is not None:
                inventory.events.append(kind.FromString(msg.data))

        sub = await nc.subscribe(f"{nats_prefix}.inventory.evt.>", cb=collect)
        cleanups.append(sub.unsubscribe)
        for spec in components.consumers:
            consumer = JetStreamConsumer(
                js=js,
                topology=topology,
                stream=spec.stream,
                durable=spec.durable,
                routes=spec.routes,
                metrics=metrics,
                batch=settings.consumer_batch,
                concurrency=settings.consumer_concurrency,
                max_deliver=settings.max_deliver,
                backoff=(0.1, 0.2, 0.5, 1.0, 2.0),
            )
            tasks.append(asyncio.create_task(consumer.run(stop)))
        relay = OutboxRelay(
            engine, js, listen_dsn=asyncpg_dsn(database_url), metrics=metrics, poll_interval=0.2
        )
        tasks.append(asyncio.create_task(relay.run(stop)))
        for _, timer in components.timers:
            tasks.append(asyncio.create_task(timer(stop)))
        return inventory

    yield start
    stop.set()
    # The consumer notices `stop` between fetches (up to 1 s); nothing is in flight by now.
    _, pending = await asyncio.wait(tasks, timeout=0.1) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for cleanup in reversed(cleanups):
        with contextlib.suppress(Exception):
            await cleanup()
