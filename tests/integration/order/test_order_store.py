"""The order service's SQL on a real PostgreSQL: placing, the saga's writes, listing, sweeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.billing.v1 import billing_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge_order.adapters.metrics import OrderMetrics
from surge_order.domain import commands
from surge_order.domain.order import Address, Customer, LineRequest, PaymentTerms
from surge_order.domain.saga import SagaState
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import handlers
from surge_order.service_layer.saga import Orchestrator, SagaPolicy
from surge_order.service_layer.unit_of_work import OrderUnitOfWork
from surge_platform import errors
from surge_platform.messaging import Topology

from tests.integration.order.conftest import Catalog, uows

pytestmark = pytest.mark.integration


@pytest.fixture
def orchestrator() -> Orchestrator:
    return Orchestrator(
        Topology("t"), OrderMetrics(CollectorRegistry()), SagaPolicy(max_step_attempts=2)
    )


async def place(
    engine: AsyncEngine,
    orchestrator: Orchestrator,
    *,
    channel: str = "web",
    customer: str = "c-1",
    client_order_id: str = "co-1",
    terms: PaymentTerms = PaymentTerms.ON_ACCOUNT,
) -> str:
    cmd = commands.PlaceOrder(
        client_order_id=client_order_id,
        channel=channel,
        external_id="",
        customer=Customer(customer, "Li Lei", "13800000000"),
        address=Address("Zhejiang", "Hangzhou", "Xihu", "1 Lingyin Rd", "310000"),
        lines=(LineRequest("TEA", 2), LineRequest("CUP", 1)),
        payment_terms=terms,
        tags=("double11",),
    )
    view, _ = await handlers.place_order(cmd, uows(engine), Catalog(), orchestrator)
    return view.order.id


async def outbox_types(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT msg_type FROM outbox ORDER BY id"))
        return [row.msg_type.rsplit(".", 1)[-1] for row in rows]


async def test_placing_writes_order_saga_step_history_and_command_in_one_go(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    order_id = await place(engine, orchestrator)
    view = await handlers.get_order(order_id, uows(engine))
    assert view.order.status is OrderStatus.RESERVING
    assert view.order.total_minor == 3_000
    assert view.order.customer.phone == "+8613800000000"
    assert view.order.tags == ("double11",)
    assert view.saga is not None
    assert view.saga.state is SagaState.RUNNING
    assert [(s.step, s.status) for s in view.steps] == [("inventory.reserve", "started")]
    assert [(h.from_status, h.to_status) for h in view.history] == [(None, "reserving")]
    assert sorted(await outbox_types(engine)) == ["OrderStatusChanged", "ReserveStockCommand"]


async def test_the_same_client_order_id_returns_the_first_order(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    first = await place(engine, orchestrator)
    again = await place(engine, orchestrator)
    assert first == again
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM orders"))).scalar() == 1


async def test_the_saga_runs_to_completion_and_delivery_on_postgres(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    oid = await place(engine, orchestrator)
    view = await handlers.get_order(oid, uows(engine))
    assert view.saga is not None
    sid = view.saga.id
    await _handle(
        engine,
        orchestrator.on_stock_reserved,
        inventory_pb2.StockReserved(
            saga_id=sid,
            order_id=oid,
            allocations=[
                inventory_pb2.Allocation(sku="TEA", warehouse="HZ-01", quantity=2),
                inventory_pb2.Allocation(sku="CUP", warehouse="HZ-01", quantity=1),
            ],
        ),
    )
    await _handle(
        engine,
        orchestrator.on_shipments_created,
        fulfillment_pb2.ShipmentsCreated(
            saga_id=sid,
            order_id=oid,
            shipments=[fulfillment_pb2.Shipment(id="s-1", warehouse="HZ-01")],
        ),
    )
    await _handle(
        engine,
        orchestrator.on_invoice_issued,
        billing_pb2.InvoiceIssued(saga_id=sid, order_id=oid, number="INV-1"),
    )
    await _handle(
        engine,
        orchestrator.on_shipment_dispatched,
        fulfillment_pb2.ShipmentDispatched(order_id=oid, shipment_id="s-1", warehouse="HZ-01"),
    )
    await _handle(
        engine,
        orchestrator.on_shipment_delivered,
        fulfillment_pb2.ShipmentDelivered(order_id=oid, shipment_id="s-1"),
    )

    view = await handlers.get_order(oid, uows(engine))
    assert view.order.status is OrderStatus.COMPLETED
    assert view.order.version == 5
    assert view.saga is not None
    assert view.saga.state is SagaState.COMPLETED
    assert [s.status for s in view.steps] == ["succeeded"] * 3
    assert [h.to_status for h in view.history] == [
        "reserving",
        "awaiting_shipment",
        "shipped",
        "delivered",
        "completed",
    ]
    sent = await outbox_types(engine)
    assert sent.count("OrderStatusChanged") == 5
    for command in (
        "CommitReservationCommand",
        "CreateShipmentsCommand",
        "IssueInvoiceCommand",
        "ConfirmReservationCommand",
    ):
        assert sent.count(command) == 1, command


async def _handle(engine: AsyncEngine, handler: object, message: object) -> None:
    async with OrderUnitOfWork(engine) as uow:
        await handler(message, uow)  # type: ignore[operator]


async def test_the_sweeper_resends_a_late_step_then_compensates(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    oid = await place(engine, orchestrator)
    for _ in range(2):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE sagas SET step_deadline = now() - interval '1 s'"))
        async with OrderUnitOfWork(engine) as uow:
            assert await orchestrator.sweep(uow) == 1
    view = await handlers.get_order(oid, uows(engine))
    assert view.saga is not None
    assert view.saga.state is SagaState.COMPENSATING
    assert [(s.step, s.status, s.attempts) for s in view.steps] == [
        ("inventory.reserve", "failed", 2),
        ("inventory.release", "started", 1),
    ]
    assert (await outbox_types(engine)).count("ReserveStockCommand") == 2
    async with OrderUnitOfWork(engine) as uow:
        assert await orchestrator.sweep(uow) == 0  # the release is not due yet


async def test_list_orders_filters_and_pages_newest_first(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    ids = [
        await place(
            engine,
            orchestrator,
            client_order_id=f"co-{i}",
            customer="c-a" if i % 2 else "c-b",
            channel="app" if i < 5 else "web",
        )
        for i in range(7)
    ]
    u = uows(engine)
    seen: list[str] = []
    token = ""
    while True:
        page = await handlers.list_orders(commands.ListOrders(page_size=3, page_token=token), u)
        seen += [o.id for o in page.orders]
        if not (token := page.next_page_token):
            break
    assert seen == list(reversed(ids))

    by_customer = await handlers.list_orders(commands.ListOrders(customer_id="c-a"), u)
    assert [o.id for o in by_customer.orders] == [ids[5], ids[3], ids[1]]
    by_channel = await handlers.list_orders(
        commands.ListOrders(channel="web", status=OrderStatus.RESERVING), u
    )
    assert [o.id for o in by_channel.orders] == [ids[6], ids[5]]
    none = await handlers.list_orders(commands.ListOrders(status=OrderStatus.SHIPPED), u)
    assert none.orders == []
    window = await handlers.list_orders(
        commands.ListOrders(created_to=datetime.now(UTC) - timedelta(days=1)), u
    )
    assert window.orders == []
    with pytest.raises(errors.InvalidArgument):
        await handlers.list_orders(commands.ListOrders(page_token="garbage"), u)
