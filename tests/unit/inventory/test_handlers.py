"""Handler decisions with fake repositories: re-planning a lost race, replays, the test hook."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from google.protobuf.message import Message
from prometheus_client import CollectorRegistry
from surge.inventory.v1 import inventory_pb2 as pb
from surge_inventory.adapters.metrics import InventoryMetrics
from surge_inventory.adapters.repository import Delta, ReserveAttempt
from surge_inventory.config import InventorySettings
from surge_inventory.domain.model import (
    Allocation,
    Level,
    Reservation,
    ReservationStatus,
)
from surge_inventory.service_layer import handlers
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork
from surge_platform.messaging import Topology

NOW = datetime(2026, 11, 11, tzinfo=UTC)


@dataclass
class FakeStock:
    levels_now: list[Level]
    # Fresh levels returned by the first reserve() calls, as if a concurrent order won each.
    races: list[tuple[tuple[str, str, int], ...]] = field(default_factory=list)
    reserved: list[tuple[Allocation, ...]] = field(default_factory=list)
    applied: list[Delta] = field(default_factory=list)
    # The orders that already have an outcome (shared with FakeReservations).
    decided: dict[str, Reservation] = field(default_factory=dict)

    async def levels(self, skus: Sequence[str]) -> tuple[dict[str, bool], list[Level]]:
        return {lv.sku: True for lv in self.levels_now}, list(self.levels_now)

    async def reserve(
        self, allocations: Sequence[Allocation], *_: Any, order_id: str, **__: Any
    ) -> ReserveAttempt:
        if order_id in self.decided:
            return ReserveAttempt(True, False, None, ())
        self.reserved.append(tuple(allocations))
        if self.races:
            return ReserveAttempt(False, False, None, self.races.pop(0))
        return ReserveAttempt(False, True, (NOW, NOW), ())

    async def apply(self, deltas: Sequence[Delta], **_: Any) -> int:
        self.applied.extend(deltas)
        return len(deltas)


@dataclass
class FakeReservations:
    rows: dict[str, Reservation] = field(default_factory=dict)

    async def get(self, order_id: str) -> Reservation | None:
        return self.rows.get(order_id)

    get_for_update = get

    async def commit_held(self, order_id: str) -> bool:
        found = self.rows.get(order_id)
        if found is None or found.status is not ReservationStatus.HELD:
            return False
        found.status = ReservationStatus.COMMITTED
        return True

    async def add_closed(self, **fields: Any) -> bool:
        if fields["order_id"] in self.rows:
            return False
        self.rows[fields["order_id"]] = Reservation(
            id=fields["id"],
            order_id=fields["order_id"],
            saga_id=fields["saga_id"],
            status=fields["status"],
            allocations=(),
            expires_at=NOW,
            created_at=NOW,
            reject_reason=fields["reason"],
            unavailable_skus=tuple(fields.get("unavailable_skus", ())),
        )
        return True

    async def save(self, reservation: Reservation) -> None:
        self.rows[reservation.order_id] = reservation


@dataclass
class FakeOutbox:
    messages: list[Message] = field(default_factory=list)

    def add(self, subject: str, message: Message) -> str:
        self.messages.append(message)
        return subject


@dataclass
class FakeUow:
    stock: FakeStock
    reservations: FakeReservations = field(default_factory=FakeReservations)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)
    committed: int = 0

    def __post_init__(self) -> None:
        self.stock.decided = self.reservations.rows

    async def commit(self) -> None:
        self.committed += 1


def deps(registry: CollectorRegistry | None = None, **settings: Any) -> handlers.Deps:
    return handlers.Deps(
        InventorySettings(database_url="postgresql+asyncpg://x/y", nats_url="nats://x", **settings),
        Topology("t"),
        InventoryMetrics(registry or CollectorRegistry()),
    )


def command(**lines: int) -> pb.ReserveStockCommand:
    return pb.ReserveStockCommand(
        saga_id="s1",
        order_id="o1",
        region="Shanghai",
        lines=[pb.ReserveLine(sku=sku.replace("_", "-"), quantity=q) for sku, q in lines.items()],
    )


async def run(
    handler: Any, cmd: Message, uow: FakeUow, dependencies: handlers.Deps | None = None
) -> None:
    await handler(cmd, cast(InventoryUnitOfWork, uow), deps=dependencies or deps())


async def test_a_lost_race_is_replanned_from_the_locked_levels() -> None:
    stock = FakeStock(
        [Level("TEA", "SH", "Shanghai", 5), Level("TEA", "GZ", "Guangdong", 9)],
        races=[(("TEA", "GZ", 9), ("TEA", "SH", 1))],
    )
    uow = FakeUow(stock)
    registry = CollectorRegistry()
    await run(handlers.reserve_stock, command(TEA=3), uow, deps(registry))
    assert stock.reserved == [(Allocation("TEA", "SH", 3),), (Allocation("TEA", "GZ", 3),)]
    (reply,) = uow.outbox.messages
    assert isinstance(reply, pb.StockReserved)
    assert [(a.warehouse, a.quantity) for a in reply.allocations] == [("GZ", 3)]
    assert uow.committed == 1
    assert registry.get_sample_value("surge_inventory_reserve_retries_total") == 1


async def test_a_race_lost_to_the_last_unit_rejects_the_order() -> None:
    stock = FakeStock([Level("TEA", "SH", "Shanghai", 1)], races=[(("TEA", "SH", 0),)])
    uow = FakeUow(stock)
    await run(handlers.reserve_stock, command(TEA=1), uow)
    (reply,) = uow.outbox.messages
    assert isinstance(reply, pb.StockRejected)
    assert list(reply.unavailable_skus) == ["TEA"]
    assert dict(reply.available_units) == {"TEA": 0}  # what the locked levels said
    assert uow.reservations.rows["o1"].status is ReservationStatus.REJECTED


async def test_a_shortage_tells_the_units_left_over_all_warehouses() -> None:
    stock = FakeStock(
        [
            Level("TEA", "SH", "Shanghai", 2),
            Level("TEA", "GZ", "Guangdong", 1),
            Level("CUP", "SH", "Shanghai", 50),
        ]
    )
    uow = FakeUow(stock)
    await run(handlers.reserve_stock, command(TEA=4, CUP=1), uow)
    (reply,) = uow.outbox.messages
    assert isinstance(reply, pb.StockRejected)
    assert reply.reason == "insufficient stock"
    assert dict(reply.available_units) == {"TEA": 3}
    assert stock.reserved == []


async def test_a_repeat_after_expiry_is_told_the_hold_is_gone() -> None:
    uow = FakeUow(FakeStock([Level("TEA", "SH", "Shanghai", 100)]))
    uow.reservations.rows["o1"] = Reservation(
        "r1", "o1", "s1", ReservationStatus.EXPIRED, (Allocation("TEA", "SH", 1),), NOW, NOW
    )
    await run(handlers.reserve_stock, command(TEA=1), uow)
    (reply,) = uow.outbox.messages
    assert isinstance(reply, pb.StockRejected)
    assert reply.reason == "reservation expired"
    assert stock_untouched(uow)


def stock_untouched(uow: FakeUow) -> bool:
    return uow.stock.applied == [] and uow.stock.reserved == []


async def test_the_test_hook_rejects_only_when_enabled() -> None:
    uow = FakeUow(FakeStock([Level("FAIL-RESERVE-9", "SH", "Shanghai", 5)]))
    await run(
        handlers.reserve_stock, command(FAIL_RESERVE_9=1), uow, deps(test_failures_enabled=True)
    )
    (reply,) = uow.outbox.messages
    assert isinstance(reply, pb.StockRejected)
    assert reply.reason.startswith("test hook")
    assert stock_untouched(uow)

    normal = FakeUow(FakeStock([Level("FAIL-RESERVE-9", "SH", "Shanghai", 5)]))
    await run(handlers.reserve_stock, command(FAIL_RESERVE_9=1), normal)
    assert isinstance(normal.outbox.messages[0], pb.StockReserved)


async def test_bad_quantities_are_rejected_without_touching_stock() -> None:
    uow = FakeUow(FakeStock([Level("TEA", "SH", "Shanghai", 50_000)]))
    await run(handlers.reserve_stock, command(TEA=10_001), uow)
    (reply,) = uow.outbox.messages
    assert isinstance(reply, pb.StockRejected)
    assert reply.reason.startswith("invalid command")
    assert stock_untouched(uow)


async def test_committing_an_expired_hold_repeats_that_it_expired() -> None:
    uow = FakeUow(FakeStock([]))
    uow.reservations.rows["o1"] = Reservation(
        "r1", "o1", "s1", ReservationStatus.EXPIRED, (Allocation("TEA", "SH", 1),), NOW, NOW
    )
    await run(handlers.commit_reservation, pb.CommitReservationCommand(order_id="o1"), uow)
    assert uow.outbox.messages == [pb.ReservationExpired(order_id="o1", reservation_id="r1")]
    assert uow.reservations.rows["o1"].status is ReservationStatus.EXPIRED


async def test_release_returns_only_undispatched_units() -> None:
    uow = FakeUow(FakeStock([]))
    held = Reservation(
        "r1",
        "o1",
        "s1",
        ReservationStatus.COMMITTED,
        (Allocation("TEA", "GZ", 2), Allocation("TEA", "SH", 1)),
        NOW,
        NOW,
        confirmed={"GZ": "shp-1"},
    )
    uow.reservations.rows["o1"] = held
    await run(handlers.release_stock, pb.ReleaseStockCommand(saga_id="s1", order_id="o1"), uow)
    assert uow.stock.applied == [Delta("TEA", "SH", 0, -1, "o1")]
    assert held.status is ReservationStatus.RELEASED
    assert uow.outbox.messages == [pb.StockReleased(saga_id="s1", order_id="o1")]
