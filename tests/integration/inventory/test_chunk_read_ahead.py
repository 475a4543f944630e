"""A group commit of inventory commands reads its reservations and levels ahead (one statement
each) and writes its reservation changes at commit, with the outcome of one transaction per
command: later commands of the batch see what earlier ones did."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message
from prometheus_client import CollectorRegistry
from surge.inventory.v1 import inventory_pb2 as pb
from surge_inventory.adapters.metrics import InventoryMetrics
from surge_inventory.service_layer import handlers
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork
from surge_platform.db import batch_transaction

from tests.integration.inventory.conftest import Inventory, Level, StartInventory
from tests.integration.inventory.test_reservations import WAREHOUSES, held, reserve

pytestmark = pytest.mark.integration

_HANDLERS = {
    pb.ReserveStockCommand: handlers.reserve_stock,
    pb.CommitReservationCommand: handlers.commit_reservation,
    pb.ReleaseStockCommand: handlers.release_stock,
    pb.ConfirmReservationCommand: handlers.confirm_reservation,
}


async def handle(inventory: Inventory, deps: handlers.Deps, command: Message) -> None:
    async with InventoryUnitOfWork(inventory.engine) as uow:
        await _HANDLERS[type(command)](command, uow, deps=deps)


async def test_later_commands_of_a_batch_see_what_earlier_ones_did(
    start_inventory: StartInventory,
) -> None:
    inventory = await start_inventory()
    await inventory.add_warehouses(*WAREHOUSES)
    await inventory.add_sku("TEA", {"SH": 10, "GZ": 3})
    await inventory.add_sku("CUP", {"SH": 5})
    registry = CollectorRegistry()
    deps = handlers.Deps(inventory.settings, inventory.topology, InventoryMetrics(registry))
    earlier = reserve({"CUP": 2})
    await handle(inventory, deps, earlier)  # its own transaction, before the batch

    first, second = reserve({"TEA": 6}), reserve({"TEA": 5})
    chunk: list[Message] = [
        first,
        second,
        pb.CommitReservationCommand(saga_id="s", order_id=first.order_id),
        pb.ReleaseStockCommand(saga_id="s", order_id=second.order_id, reason="cancelled"),
        pb.CommitReservationCommand(saga_id="s", order_id=earlier.order_id),
        pb.ConfirmReservationCommand(
            order_id=earlier.order_id, shipment_id="shp-1", warehouse="SH"
        ),
        pb.CommitReservationCommand(saga_id="s", order_id=first.order_id),  # a repeat
    ]
    async with batch_transaction(inventory.engine) as batch:
        await batch.before_handlers(chunk)
        for command in chunk:
            await handle(inventory, deps, command)

    # The second order was planned on what the first left (4 in SH), not on the stale 10.
    assert held(await inventory.reply(pb.StockReserved, second.order_id)) == [
        ("TEA", "GZ", 1),
        ("TEA", "SH", 4),
    ]
    assert registry.get_sample_value("surge_inventory_reserve_retries_total") == 0
    assert held(await inventory.reply(pb.StockReserved, first.order_id)) == [("TEA", "SH", 6)]
    await inventory.reply(pb.ReservationCommitted, first.order_id, count=2)
    await inventory.reply(pb.StockReleased, second.order_id)
    await inventory.reply(pb.ReservationConfirmed, earlier.order_id)
    assert await inventory.levels("TEA") == {"GZ": Level(3, 0, 3), "SH": Level(10, 6, 4)}
    assert await inventory.levels("CUP") == {"SH": Level(3, 0, 3)}
    status = "SELECT status FROM reservations WHERE order_id = :order_id"
    assert await inventory.scalar(status, order_id=first.order_id) == "committed"
    assert await inventory.scalar(status, order_id=second.order_id) == "released"
    assert await inventory.scalar(status, order_id=earlier.order_id) == "confirmed"
    confirmed = "SELECT confirmed ->> 'SH' FROM reservations WHERE order_id = :order_id"
    assert await inventory.scalar(confirmed, order_id=earlier.order_id) == "shp-1"
