"""A CommitReservation that arrives alone (no group commit) commits a HELD reservation with one
statement of its own (it was two: the locking read, then the update)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from surge.inventory.v1 import inventory_pb2 as pb
from surge_inventory.adapters.metrics import InventoryMetrics
from surge_inventory.service_layer import handlers
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork

from tests.integration.billing.round_trips import counting_engine
from tests.integration.inventory.conftest import StartInventory
from tests.integration.inventory.test_reservations import WAREHOUSES, reserve

pytestmark = pytest.mark.integration


async def test_committing_a_held_reservation_alone_takes_one_statement(
    start_inventory: StartInventory,
) -> None:
    inventory = await start_inventory()
    await inventory.add_warehouses(*WAREHOUSES)
    await inventory.add_sku("TEA", {"SH": 10})
    deps = handlers.Deps(
        inventory.settings, inventory.topology, InventoryMetrics(CollectorRegistry())
    )
    first, second = reserve({"TEA": 1}), reserve({"TEA": 2})
    async with counting_engine(inventory.engine) as (engine, statements):
        for command in (first, second):
            async with InventoryUnitOfWork(engine) as uow:
                await handlers.reserve_stock(command, uow, deps=deps)
        warm = pb.CommitReservationCommand(saga_id="s", order_id=first.order_id)
        async with InventoryUnitOfWork(engine) as uow:
            await handlers.commit_reservation(warm, uow, deps=deps)
        statements.clear()
        async with InventoryUnitOfWork(engine) as uow:
            commit = pb.CommitReservationCommand(saga_id="s", order_id=second.order_id)
            await handlers.commit_reservation(commit, uow, deps=deps)
        own = await statements.of_handler()
    assert len(own) == 1, own
    assert own[0].startswith("UPDATE reservations SET status = 'committed'")
    await inventory.reply(pb.ReservationCommitted, second.order_id)  # through the relay
    status = "SELECT status FROM reservations WHERE order_id = :o"
    assert await inventory.scalar(status, o=second.order_id) == "committed"
