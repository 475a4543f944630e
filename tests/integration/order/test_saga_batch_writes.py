"""Inside a group commit of the saga durables, the replies' order and saga writes are queued and
sent with one statement per batch (adapters/saga_writes.py): the outcome is the same as writing
each at once, a later read of a queued order in the batch sees its writes, and the optimistic
version check still fails the batch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.billing.v1 import billing_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge_order.adapters.repository import lock_chunk
from surge_order.domain.saga import Step
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import handlers
from surge_order.service_layer.saga import Orchestrator
from surge_order.service_layer.unit_of_work import OrderUnitOfWork
from surge_platform.db import batch_transaction

from tests.integration.order.conftest import uows
from tests.integration.order.test_order_store import orchestrator, outbox_types, place

pytestmark = pytest.mark.integration
__all__ = ["orchestrator"]  # the fixture, imported for this module's tests


async def saga_id(engine: AsyncEngine, order_id: str) -> str:
    view = await handlers.get_order(order_id, uows(engine))
    assert view.saga is not None
    return view.saga.id


def reserved(order_id: str, saga: str) -> inventory_pb2.StockReserved:
    return inventory_pb2.StockReserved(
        saga_id=saga,
        order_id=order_id,
        allocations=[
            inventory_pb2.Allocation(sku="TEA", warehouse="HZ-01", quantity=2),
            inventory_pb2.Allocation(sku="CUP", warehouse="HZ-01", quantity=1),
        ],
    )


async def test_a_batch_of_replies_writes_what_one_by_one_would_and_reads_its_own_writes(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    first = await place(engine, orchestrator, client_order_id="batch-1")
    second = await place(engine, orchestrator, client_order_id="batch-2")
    first_saga, second_saga = await saga_id(engine, first), await saga_id(engine, second)
    shipped = fulfillment_pb2.ShipmentsCreated(
        saga_id=first_saga,
        order_id=first,
        shipments=[fulfillment_pb2.Shipment(id="SH-batch-1", warehouse="HZ-01")],
    )
    replies = [reserved(first, first_saga), reserved(second, second_saga), shipped]
    async with batch_transaction(engine) as batch:
        await lock_chunk(batch, replies, counted=(billing_pb2.InvoiceIssued,))
        for reply in replies[:2]:
            async with OrderUnitOfWork(engine, batch_writes=True) as uow:
                await orchestrator.on_stock_reserved(reply, uow)
        # Queued, not yet written: the next lock of the first order flushes them, so its saga
        # waits for the shipments (a stale read would drop this reply as a duplicate).
        async with OrderUnitOfWork(engine, batch_writes=True) as uow:
            await orchestrator.on_shipments_created(shipped, uow)
    one, two = (
        await handlers.get_order(first, uows(engine)),
        await handlers.get_order(second, uows(engine)),
    )
    assert one.saga is not None
    assert two.saga is not None
    assert one.saga.current_step is Step.ISSUE_INVOICE
    assert two.saga.current_step is Step.CREATE_SHIPMENT
    assert [(s.step, s.status) for s in one.steps] == [
        ("inventory.reserve", "succeeded"),
        ("fulfillment.create_shipment", "succeeded"),
        ("billing.issue_invoice", "started"),
    ]
    assert [(s.step, s.status) for s in two.steps] == [
        ("inventory.reserve", "succeeded"),
        ("fulfillment.create_shipment", "started"),
    ]
    async with OrderUnitOfWork(engine) as uow:
        assert (await uow.orders.shipment_counts(first)).total == 1
    sent = await outbox_types(engine)
    assert sent.count("CreateShipmentsCommand") == 2
    assert sent.count("IssueInvoiceCommand") == 1


async def cancel_in_a_batch_whose_version_check_fails(
    engine: AsyncEngine, orchestrator: Orchestrator, first: str, second: str
) -> None:
    async with batch_transaction(engine) as batch:
        invoices = [billing_pb2.InvoiceIssued(order_id=i) for i in (first, second)]
        await lock_chunk(batch, invoices, counted=(billing_pb2.InvoiceIssued,))
        async with OrderUnitOfWork(engine, batch_writes=True) as uow:
            assert (await uow.orders.shipment_counts(first)).total == 0  # read ahead
            locked = await uow.orders.lock(first)
            assert locked is not None
            await orchestrator.cancel(uow, *locked, "changed my mind", datetime.now(UTC))
            await orchestrator.save(uow, *locked)
            await uow.commit()
        # Not possible while the batch holds the lock; here it stands for a lost update.
        await batch.connection.execute(
            text("UPDATE orders SET version = version + 5 WHERE id = :id"), {"id": first}
        )


async def test_an_invoice_chunk_reads_shipment_counts_once_and_a_changed_version_fails_it(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    first = await place(engine, orchestrator, client_order_id="batch-3")
    second = await place(engine, orchestrator, client_order_id="batch-4")
    with pytest.raises(RuntimeError, match="changed concurrently"):
        await cancel_in_a_batch_whose_version_check_fails(engine, orchestrator, first, second)
    view = await handlers.get_order(first, uows(engine))
    assert view.order.status is OrderStatus.RESERVING  # the whole batch rolled back
