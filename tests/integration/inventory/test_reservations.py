"""Reserve, commit, release, confirm and expire through the real consumer, DB and NATS."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from prometheus_client import CollectorRegistry
from surge.inventory.v1 import inventory_pb2 as pb
from surge_inventory.adapters.metrics import InventoryMetrics
from surge_inventory.entrypoints.expiry import ExpirySweeper
from surge_inventory.service_layer.handlers import Deps
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork
from surge_platform.ids import new_id

from tests.integration.inventory.conftest import Inventory, Level, StartInventory
from tests.support import wait_until

pytestmark = pytest.mark.integration

WAREHOUSES = (("SH", "Shanghai"), ("GZ", "Guangdong"), ("BJ", "Beijing"))


def reserve(
    sku_quantities: dict[str, int], region: str = "Shanghai", ttl_seconds: int = 0
) -> pb.ReserveStockCommand:
    return pb.ReserveStockCommand(
        saga_id=new_id(),
        order_id=new_id(),
        region=region,
        lines=[pb.ReserveLine(sku=s, quantity=q) for s, q in sku_quantities.items()],
        ttl_seconds=ttl_seconds,
    )


def held(reply: pb.StockReserved) -> list[tuple[str, str, int]]:
    return [(a.sku, a.warehouse, a.quantity) for a in reply.allocations]


@pytest.fixture
async def inventory(start_inventory: StartInventory) -> Inventory:
    service = await start_inventory()
    await service.add_warehouses(*WAREHOUSES)
    return service


async def test_lines_go_to_the_region_first_then_the_fullest_warehouse_split_only_when_needed(
    inventory: Inventory,
) -> None:
    await inventory.add_sku("TEA", {"SH": 5, "GZ": 50, "BJ": 10})

    regional = reserve({"TEA": 3}, region="Shanghai")
    too_big_for_region = reserve({"TEA": 8}, region="Shanghai")
    nowhere_near = reserve({"TEA": 2}, region="Tibet")
    await inventory.send(regional)
    assert held(await inventory.reply(pb.StockReserved, regional.order_id)) == [("TEA", "SH", 3)]
    await inventory.send(too_big_for_region)
    assert held(await inventory.reply(pb.StockReserved, too_big_for_region.order_id)) == [
        ("TEA", "GZ", 8)
    ]
    await inventory.send(nowhere_near)
    assert held(await inventory.reply(pb.StockReserved, nowhere_near.order_id)) == [
        ("TEA", "GZ", 2)
    ]
    # Left: SH 2, GZ 40, BJ 10. 45 units fit in no single warehouse: region first, then fullest.
    split = reserve({"TEA": 45}, region="Shanghai")
    await inventory.send(split)
    assert held(await inventory.reply(pb.StockReserved, split.order_id)) == [
        ("TEA", "BJ", 3),
        ("TEA", "GZ", 40),
        ("TEA", "SH", 2),
    ]
    assert await inventory.levels("TEA") == {
        "BJ": Level(on_hand=10, reserved=3, available=7),
        "GZ": Level(on_hand=50, reserved=50, available=0),
        "SH": Level(on_hand=5, reserved=5, available=0),
    }


async def test_an_order_with_one_short_line_holds_nothing(inventory: Inventory) -> None:
    await inventory.add_sku("PLENTY", {"SH": 100})
    await inventory.add_sku("SCARCE", {"SH": 1, "GZ": 1})
    await inventory.add_sku("RETIRED", {"SH": 100}, active=False)

    short = reserve({"PLENTY": 5, "SCARCE": 3})
    await inventory.send(short)
    rejected = await inventory.reply(pb.StockRejected, short.order_id)
    assert list(rejected.unavailable_skus) == ["SCARCE"]
    assert rejected.reason == "insufficient stock"

    unknown = reserve({"PLENTY": 1, "NO-SUCH-SKU": 1, "RETIRED": 1})
    await inventory.send(unknown)
    rejected = await inventory.reply(pb.StockRejected, unknown.order_id)
    assert sorted(rejected.unavailable_skus) == ["NO-SUCH-SKU", "RETIRED"]

    assert await inventory.levels("PLENTY") == {"SH": Level(100, 0, 100)}
    assert await inventory.levels("SCARCE") == {"GZ": Level(1, 0, 1), "SH": Level(1, 0, 1)}
    assert (
        await inventory.scalar("SELECT count(*) FROM stock_movements WHERE reason <> 'seed'") == 0
    )
    assert not inventory.replies(pb.StockReserved)


async def test_500_concurrent_orders_for_100_units_reserve_exactly_100(
    start_inventory: StartInventory,
) -> None:
    inventory = await start_inventory()
    await inventory.add_warehouses(*WAREHOUSES)
    # Split over two warehouses so allocation moves between rows while the race is on.
    await inventory.add_sku("FLASH", {"SH": 60, "GZ": 40})
    commands = [reserve({"FLASH": 1}) for _ in range(500)]
    lowest_available = 100

    async def sample() -> None:
        nonlocal lowest_available
        while True:
            levels = await inventory.levels("FLASH")
            lowest_available = min(lowest_available, *(lv.available for lv in levels.values()))
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(inventory.send(c) for c in commands))
    await wait_until(
        lambda: (
            len(inventory.replies(pb.StockReserved)) + len(inventory.replies(pb.StockRejected))
            >= 500
        ),
        120,
        "500 replies",
    )
    sampler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampler
    reserved = inventory.replies(pb.StockReserved)
    rejected = inventory.replies(pb.StockRejected)
    assert len(reserved) == 100
    assert len(rejected) == 400
    assert {r.order_id for r in reserved} | {r.order_id for r in rejected} == {
        c.order_id for c in commands
    }
    levels = await inventory.levels("FLASH")
    assert levels == {"GZ": Level(40, 40, 0), "SH": Level(60, 60, 0)}
    assert lowest_available >= 0
    assert await inventory.scalar("SELECT count(*) FROM reservations WHERE status = 'held'") == 100
    assert (
        await inventory.scalar(
            "SELECT sum(delta_reserved) FROM stock_movements WHERE reason = 'reserve'"
        )
        == 100
    )
    assert inventory.metric("surge_inventory_reservations_total", {"outcome": "reserved"}) == 100
    assert inventory.metric("surge_inventory_reservations_total", {"outcome": "rejected"}) == 400
    failed = {"consumer": "inventory-commands", "message": "reserve_stock", "outcome": "error"}
    assert inventory.metric("surge_consumer_messages_total", failed) == 0


async def test_racing_multi_line_orders_never_deadlock_or_oversell(
    start_inventory: StartInventory,
) -> None:
    inventory = await start_inventory()
    await inventory.add_warehouses(*WAREHOUSES)
    await inventory.add_sku("CUP", {"SH": 30, "GZ": 30, "BJ": 30})
    await inventory.add_sku("POT", {"SH": 20, "GZ": 20, "BJ": 20})
    # Lines in both orders and regions everywhere: rows are wanted in every order there is.
    commands = [
        reserve(
            {"CUP": 2, "POT": 1} if n % 2 else {"POT": 1, "CUP": 2},
            region=WAREHOUSES[n % 3][1],
        )
        for n in range(120)
    ]
    await asyncio.gather(*(inventory.send(c) for c in commands))
    await wait_until(
        lambda: (
            len(inventory.replies(pb.StockReserved)) + len(inventory.replies(pb.StockRejected))
            >= 120
        ),
        60,
        "120 replies",
    )
    reserved = len(inventory.replies(pb.StockReserved))
    assert reserved == 45  # CUP runs out first: 90 units, 2 per order
    cups, pots = await inventory.levels("CUP"), await inventory.levels("POT")
    assert sum(lv.reserved for lv in cups.values()) == 2 * reserved
    assert sum(lv.reserved for lv in pots.values()) == reserved
    assert all(lv.on_hand == lv.reserved + lv.available for lv in [*cups.values(), *pots.values()])
    failed = {"consumer": "inventory-commands", "message": "reserve_stock", "outcome": "error"}
    assert inventory.metric("surge_consumer_messages_total", failed) == 0


async def test_a_command_delivered_twice_reserves_once_and_replies_twice(
    inventory: Inventory,
) -> None:
    await inventory.add_sku("TEA", {"SH": 10})
    command = reserve({"TEA": 4})
    # Same order, two message ids (the saga's sweeper re-sending): the inbox cannot dedupe it.
    await asyncio.gather(inventory.send(command), inventory.send(command))
    await inventory.reply(pb.StockReserved, command.order_id, count=2)
    first, second = inventory.replies(pb.StockReserved, command.order_id)
    assert first.reservation_id == second.reservation_id
    assert held(first) == held(second) == [("TEA", "SH", 4)]
    assert await inventory.levels("TEA") == {"SH": Level(10, 4, 6)}
    assert await inventory.scalar("SELECT count(*) FROM reservations") == 1

    too_many = reserve({"TEA": 7})
    await inventory.send(too_many)
    await inventory.reply(pb.StockRejected, too_many.order_id)
    await inventory.send(too_many)
    await inventory.reply(pb.StockRejected, too_many.order_id, count=2)
    assert await inventory.levels("TEA") == {"SH": Level(10, 4, 6)}


async def test_an_unconfirmed_reservation_expires_and_its_stock_returns(
    inventory: Inventory,
) -> None:
    await inventory.add_sku("TEA", {"SH": 10, "GZ": 10})
    committed = reserve({"TEA": 3}, ttl_seconds=1)
    forgotten = reserve({"TEA": 12}, ttl_seconds=1)
    await inventory.send(committed)
    await inventory.reply(pb.StockReserved, committed.order_id)
    await inventory.send(pb.CommitReservationCommand(saga_id="s", order_id=committed.order_id))
    await inventory.reply(pb.ReservationCommitted, committed.order_id)
    await inventory.send(forgotten)
    reply = await inventory.reply(pb.StockReserved, forgotten.order_id)
    assert held(reply) == [("TEA", "GZ", 5), ("TEA", "SH", 7)]

    expired = await inventory.reply(pb.ReservationExpired, forgotten.order_id)
    assert expired.reservation_id == reply.reservation_id
    assert await inventory.levels("TEA") == {"GZ": Level(10, 0, 10), "SH": Level(10, 3, 7)}
    status = "SELECT status FROM reservations WHERE order_id = :order_id"
    assert await inventory.scalar(status, order_id=forgotten.order_id) == "expired"
    # Committed at the same ttl, it outlived the sweep that expired the other one.
    assert await inventory.scalar(status, order_id=committed.order_id) == "committed"
    assert not inventory.replies(pb.ReservationExpired, committed.order_id)
    assert (
        await inventory.scalar(
            "SELECT sum(delta_reserved) FROM stock_movements WHERE reason = 'expire' "
            "AND ref = :order_id",
            order_id=forgotten.order_id,
        )
        == -12
    )
    await wait_until(
        lambda: inventory.metric("surge_inventory_reservations_expired_total") == 1,
        5,
        "the expiry counted",
    )
    # The order moving on too late cannot revive it: the saga hears "expired" again.
    await inventory.send(pb.CommitReservationCommand(saga_id="s", order_id=forgotten.order_id))
    await inventory.reply(pb.ReservationExpired, forgotten.order_id, count=2)
    assert await inventory.scalar(status, order_id=forgotten.order_id) == "expired"


async def test_sweepers_on_several_replicas_expire_each_reservation_once(
    start_inventory: StartInventory,
) -> None:
    # The service's own sweeper waits a minute between sweeps; two "replicas" race instead.
    inventory = await start_inventory(
        reservation_sweep_interval_seconds=60, reservation_sweep_batch=3
    )
    await inventory.add_warehouses(*WAREHOUSES)
    await inventory.add_sku("TEA", {"SH": 100})
    commands = [reserve({"TEA": 2}, ttl_seconds=1) for _ in range(20)]
    await asyncio.gather(*(inventory.send(c) for c in commands))
    await wait_until(lambda: len(inventory.replies(pb.StockReserved)) == 20, 15, "20 holds")

    async def all_due() -> bool:
        due = "SELECT count(*) FROM reservations WHERE status = 'held' AND expires_at < now()"
        return bool(await inventory.scalar(due) == 20)

    await wait_until(all_due, 10, "every hold overdue")
    sweepers = [
        ExpirySweeper(
            lambda: InventoryUnitOfWork(inventory.engine),
            Deps(inventory.settings, inventory.topology, InventoryMetrics(CollectorRegistry())),
        )
        for _ in range(2)
    ]
    counts = await asyncio.gather(*(s.sweep() for s in sweepers for _ in range(3)))
    assert sum(counts) == 20
    await wait_until(
        lambda: len(inventory.replies(pb.ReservationExpired)) == 20, 15, "20 expiry events"
    )
    assert len({e.order_id for e in inventory.replies(pb.ReservationExpired)}) == 20
    assert await inventory.levels("TEA") == {"SH": Level(100, 0, 100)}
    assert (
        await inventory.scalar(
            "SELECT sum(delta_reserved) FROM stock_movements WHERE reason = 'expire'"
        )
        == -40
    )


async def test_release_returns_stock_and_repeats_reply_again(inventory: Inventory) -> None:
    await inventory.add_sku("TEA", {"SH": 10})
    command = reserve({"TEA": 6})
    await inventory.send(command)
    await inventory.reply(pb.StockReserved, command.order_id)
    await inventory.send(pb.CommitReservationCommand(saga_id="s", order_id=command.order_id))
    await inventory.reply(pb.ReservationCommitted, command.order_id)

    release = pb.ReleaseStockCommand(saga_id="s", order_id=command.order_id, reason="no payment")
    await inventory.send(release)
    await inventory.reply(pb.StockReleased, command.order_id)
    assert await inventory.levels("TEA") == {"SH": Level(10, 0, 10)}
    await inventory.send(release)
    await inventory.reply(pb.StockReleased, command.order_id, count=2)
    assert await inventory.levels("TEA") == {"SH": Level(10, 0, 10)}
    assert (
        await inventory.scalar("SELECT count(*) FROM stock_movements WHERE reason LIKE 'release%'")
        == 1
    )


async def test_release_before_reserve_makes_the_late_reserve_hold_nothing(
    inventory: Inventory,
) -> None:
    await inventory.add_sku("TEA", {"SH": 10})
    late = reserve({"TEA": 2})
    await inventory.send(pb.ReleaseStockCommand(saga_id="s", order_id=late.order_id))
    await inventory.reply(pb.StockReleased, late.order_id)
    await inventory.send(late)
    rejected = await inventory.reply(pb.StockRejected, late.order_id)
    assert rejected.reason == "reservation was released"
    assert await inventory.levels("TEA") == {"SH": Level(10, 0, 10)}


async def test_confirm_takes_dispatched_units_out_of_on_hand_once_per_warehouse(
    inventory: Inventory,
) -> None:
    await inventory.add_sku("TEA", {"SH": 4, "GZ": 10})
    command = reserve({"TEA": 6})
    await inventory.send(command)
    reply = await inventory.reply(pb.StockReserved, command.order_id)
    assert held(reply) == [("TEA", "GZ", 6)]
    order_id = command.order_id
    await inventory.send(pb.CommitReservationCommand(saga_id="s", order_id=order_id))
    await inventory.reply(pb.ReservationCommitted, order_id)

    dispatch = pb.ConfirmReservationCommand(order_id=order_id, shipment_id="shp-1", warehouse="GZ")
    await inventory.send(dispatch)
    await inventory.reply(pb.ReservationConfirmed, order_id)
    await inventory.send(dispatch)
    await inventory.reply(pb.ReservationConfirmed, order_id, count=2)
    assert await inventory.levels("TEA") == {"GZ": Level(4, 0, 4), "SH": Level(4, 0, 4)}
    status = "SELECT status FROM reservations WHERE order_id = :order_id"
    assert await inventory.scalar(status, order_id=order_id) == "confirmed"
    # A release after dispatch has nothing left to give back.
    await inventory.send(pb.ReleaseStockCommand(saga_id="s", order_id=order_id))
    await inventory.reply(pb.StockReleased, order_id)
    assert await inventory.levels("TEA") == {"GZ": Level(4, 0, 4), "SH": Level(4, 0, 4)}


async def test_test_hook_rejects_fail_reserve_skus_only_when_enabled(
    start_inventory: StartInventory,
) -> None:
    inventory = await start_inventory(test_failures_enabled=True)
    await inventory.add_warehouses(*WAREHOUSES)
    await inventory.add_sku("FAIL-RESERVE-1", {"SH": 10})
    command = reserve({"FAIL-RESERVE-1": 1})
    await inventory.send(command)
    rejected = await inventory.reply(pb.StockRejected, command.order_id)
    assert "test hook" in rejected.reason
    assert list(rejected.unavailable_skus) == ["FAIL-RESERVE-1"]
    assert await inventory.levels("FAIL-RESERVE-1") == {"SH": Level(10, 0, 10)}


async def test_fail_reserve_skus_are_ordinary_when_the_hook_is_off(inventory: Inventory) -> None:
    await inventory.add_sku("FAIL-RESERVE-2", {"SH": 10})
    command = reserve({"FAIL-RESERVE-2": 1})
    await inventory.send(command)
    await inventory.reply(pb.StockReserved, command.order_id)
