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
from surge_platform.ids import new_id
from surge_platform.messaging import (
    HEADER_MESSAGE_ID,
    HEADER_TYPE,
    Topology,
)
from surge_platform.migrations import migrate, migrations_of
from surge_platform.testing.inprocess import run_in_process
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
    async with contextlib.AsyncExitStack() as running:

        async def start(**overrides: Any) -> Inventory:
            await asyncio.to_thread(migrate, MIGRATIONS, database_url)
            settings = InventorySettings(
                database_url=database_url,
                nats_url=nats_server.url,
                nats_prefix=nats_prefix,
                **overrides,
            )
            service = await running.enter_async_context(
                run_in_process(settings, bootstrap.build, backoff=(0.1, 0.2, 0.5, 1.0, 2.0))
            )
            infra = service.infra
            inventory = Inventory(settings, infra.engine, infra.js, infra.topology, infra.registry)

            async def collect(msg: Msg) -> None:
                kind = EVENT_TYPES.get((msg.headers or {}).get(HEADER_TYPE, ""))
                if kind is not None:
                    inventory.events.append(kind.FromString(msg.data))

            await infra.nats.subscribe(f"{nats_prefix}.inventory.evt.>", cb=collect)
            return inventory

        yield start
