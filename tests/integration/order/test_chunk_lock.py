"""A group commit locks its chunk's orders with one statement (`lock_chunk`); each handler's
`lock()` then reads the row locked ahead, and after a handler saved an order the next `lock()`
of it reads the saved state."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.inventory.v1 import inventory_pb2
from surge_order.adapters.repository import lock_chunk
from surge_order.domain.status import OrderStatus
from surge_order.service_layer.saga import Orchestrator
from surge_order.service_layer.unit_of_work import OrderUnitOfWork
from surge_platform.db import batch_transaction

from tests.integration.order.test_order_store import orchestrator, place

pytestmark = pytest.mark.integration
__all__ = ["orchestrator"]  # the fixture, imported for this module's tests


async def locked_elsewhere(engine: AsyncEngine, order_id: str) -> bool:
    async with engine.connect() as other:
        try:
            await other.execute(
                text("SELECT 1 FROM orders WHERE id = :id FOR UPDATE NOWAIT"), {"id": order_id}
            )
        except DBAPIError:
            return True
        return False


async def test_a_chunk_locks_its_orders_at_once_and_handlers_see_their_own_writes(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    first = await place(engine, orchestrator, client_order_id="chunk-1")
    second = await place(engine, orchestrator, client_order_id="chunk-2")
    async with OrderUnitOfWork(engine) as uow:
        locked = await uow.orders.lock(first)
        assert locked is not None
        saga_id = locked[1].id
    reply = inventory_pb2.StockReserved(
        saga_id=saga_id,
        order_id=first,
        allocations=[
            inventory_pb2.Allocation(sku="TEA", warehouse="HZ-01", quantity=2),
            inventory_pb2.Allocation(sku="CUP", warehouse="HZ-01", quantity=1),
        ],
    )
    not_an_order = inventory_pb2.StockReserved(order_id="not-a-uuid")
    async with batch_transaction(engine) as batch:
        await lock_chunk(batch, [reply, inventory_pb2.StockReserved(order_id=second), not_an_order])
        assert await locked_elsewhere(engine, first)
        assert await locked_elsewhere(engine, second)
        async with OrderUnitOfWork(engine) as uow:
            before = await uow.orders.lock(first)
            assert before is not None
            assert before[0].status is OrderStatus.RESERVING
            await orchestrator.on_stock_reserved(reply, uow)  # saves the order
        async with OrderUnitOfWork(engine) as uow:
            after = await uow.orders.lock(first)
            assert after is not None
            # The saga moved on to its next step, as saved by the handler (not the row read ahead).
            assert after[1].current_step is not before[1].current_step
            assert after[1].step_log_id != before[1].step_log_id
            await uow.commit()
    assert not await locked_elsewhere(engine, first)
