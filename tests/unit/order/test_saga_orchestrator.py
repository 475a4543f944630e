"""The saga orchestrator through its handlers, with an in-memory unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from surge.billing.v1 import billing_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge_order.adapters.metrics import OrderMetrics
from surge_order.domain import commands
from surge_order.domain.model import Order, Saga
from surge_order.domain.order import Address, CatalogItem, Customer, LineRequest, PaymentTerms
from surge_order.domain.saga import SagaState, Step
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import handlers
from surge_order.service_layer.saga import Orchestrator, SagaPolicy
from surge_platform import errors
from surge_platform.messaging import Topology

from tests.unit.order.fakes import FakeStore, FakeUnitOfWork


class FakeCatalog:
    def __init__(self, items: Mapping[str, CatalogItem]) -> None:
        self.items = items

    async def skus(self, codes: Iterable[str]) -> Mapping[str, CatalogItem]:
        return {c: self.items[c] for c in codes if c in self.items}


CATALOG = FakeCatalog(
    {
        "TEA": CatalogItem("TEA", "Longjing 250g", 1999, "CNY", 250, True),
        "CUP": CatalogItem("CUP", "Cup", 500, "CNY", 100, True),
        "OLD": CatalogItem("OLD", "Old", 500, "CNY", 100, False),
    }
)


class World:
    def __init__(self, max_attempts: int = 2) -> None:
        self.store = FakeStore()
        self.metrics = OrderMetrics(CollectorRegistry())
        self.orchestrator = Orchestrator(
            Topology("t"), self.metrics, SagaPolicy(max_step_attempts=max_attempts)
        )

    def uow(self) -> Any:
        return FakeUnitOfWork(self.store)

    async def place(self, terms: PaymentTerms = PaymentTerms.ON_ACCOUNT, **kw: Any) -> str:
        cmd = commands.PlaceOrder(
            client_order_id=kw.get("client_order_id", "co-1"),
            channel="web",
            external_id="",
            customer=Customer("cust-1", "Li Lei", "13800000000"),
            address=Address("Zhejiang", "Hangzhou", "Xihu", "1 Lingyin Rd", "310000"),
            lines=kw.get("lines", (LineRequest("TEA", 2), LineRequest("CUP", 1))),
            payment_terms=terms,
        )
        view, _ = await handlers.place_order(cmd, self.uow, CATALOG, self.orchestrator)
        return view.order.id

    def order(self, order_id: str) -> Order:
        return self.store.orders[order_id]

    def saga(self, order_id: str) -> Saga:
        return self.store.sagas[order_id]

    async def reply(self, handler_name: str, message: Any) -> None:
        await getattr(self.orchestrator, handler_name)(message, self.uow())

    async def reserved(self, order_id: str) -> None:
        await self.reply(
            "on_stock_reserved",
            inventory_pb2.StockReserved(
                saga_id=self.saga(order_id).id,
                order_id=order_id,
                reservation_id="r-1",
                allocations=[
                    inventory_pb2.Allocation(sku="TEA", warehouse="HZ-01", quantity=2),
                    inventory_pb2.Allocation(sku="CUP", warehouse="SH-01", quantity=1),
                ],
            ),
        )

    async def shipped(self, order_id: str) -> None:
        await self.reply(
            "on_shipments_created",
            fulfillment_pb2.ShipmentsCreated(
                saga_id=self.saga(order_id).id,
                order_id=order_id,
                shipments=[
                    fulfillment_pb2.Shipment(id="s-1", warehouse="HZ-01"),
                    fulfillment_pb2.Shipment(id="s-2", warehouse="SH-01"),
                ],
            ),
        )

    async def invoiced(self, order_id: str) -> None:
        await self.reply(
            "on_invoice_issued",
            billing_pb2.InvoiceIssued(
                saga_id=self.saga(order_id).id,
                order_id=order_id,
                invoice_id="i-1",
                number="INV-2026-000001",
            ),
        )

    async def pay(self, order_id: str, amount: int = 4498, reference: str = "ref-1") -> None:
        await handlers.record_payment(
            commands.RecordPayment(order_id, amount, "CNY", "alipay", reference),
            self.uow,
            self.orchestrator,
            Topology("t"),
        )

    def statuses(self, order_id: str) -> list[str]:
        return [to for oid, _, to, _ in self.store.history if oid == order_id]


async def test_an_on_account_order_runs_reserve_ship_invoice_to_awaiting_shipment() -> None:
    w = World()
    oid = await w.place()
    assert w.store.sent_types() == ["OrderStatusChanged", "ReserveStockCommand"]
    reserve = w.store.sent[1][1]
    assert isinstance(reserve, inventory_pb2.ReserveStockCommand)
    assert reserve.ttl_seconds == 900
    assert reserve.region == "Zhejiang"

    await w.reserved(oid)
    assert w.store.sent_types()[-2:] == ["CommitReservationCommand", "CreateShipmentsCommand"]
    create = w.store.sent[-1][1]
    assert isinstance(create, fulfillment_pb2.CreateShipmentsCommand)
    assert [(i.sku, i.warehouse, i.quantity, i.weight_grams) for i in create.items] == [
        ("TEA", "HZ-01", 2, 500),
        ("CUP", "SH-01", 1, 100),
    ]

    await w.shipped(oid)
    issue = w.store.sent[-1][1]
    assert isinstance(issue, billing_pb2.IssueInvoiceCommand)
    assert issue.total.amount_minor == 4498
    assert sum(line.amount.amount_minor for line in issue.lines) == 4498

    await w.invoiced(oid)
    assert w.order(oid).status is OrderStatus.AWAITING_SHIPMENT
    assert w.saga(oid).state is SagaState.COMPLETED
    assert w.statuses(oid) == ["reserving", "awaiting_shipment"]
    assert [s["status"] for s in w.store.steps.values()] == ["succeeded"] * 3


async def test_a_duplicate_reply_has_no_second_effect() -> None:
    w = World()
    oid = await w.place()
    await w.reserved(oid)
    sent = len(w.store.sent)
    await w.reserved(oid)
    assert len(w.store.sent) == sent


async def test_a_prepaid_order_waits_for_payment_then_continues() -> None:
    w = World()
    oid = await w.place(PaymentTerms.PREPAID)
    reserve = w.store.sent[1][1]
    assert isinstance(reserve, inventory_pb2.ReserveStockCommand)
    assert reserve.ttl_seconds == 1800
    await w.reserved(oid)
    assert w.order(oid).status is OrderStatus.PENDING_PAYMENT
    assert w.saga(oid).state is SagaState.AWAITING_PAYMENT
    assert "CreateShipmentsCommand" not in w.store.sent_types()

    await w.pay(oid)
    assert w.order(oid).status is OrderStatus.PAID
    assert "RecordPaymentCommand" in w.store.sent_types()
    assert w.store.sent_types()[-2:] == ["CreateShipmentsCommand", "OrderStatusChanged"]
    await w.pay(oid)  # the same reference again: nothing new
    assert w.store.sent_types().count("RecordPaymentCommand") == 1


async def test_a_payment_before_the_reservation_resumes_when_stock_is_reserved() -> None:
    w = World()
    oid = await w.place(PaymentTerms.PREPAID)
    await w.pay(oid)
    assert w.order(oid).status is OrderStatus.PAID
    assert "CreateShipmentsCommand" not in w.store.sent_types()
    await w.reserved(oid)
    assert w.store.sent_types()[-1] == "CreateShipmentsCommand"


async def test_a_payment_must_match_the_total() -> None:
    w = World()
    oid = await w.place(PaymentTerms.PREPAID)
    with pytest.raises(errors.InvalidArgument) as raised:
        await w.pay(oid, amount=1)
    assert set(raised.value.field_violations) == {"amount.amount_minor"}


async def test_a_rejected_invoice_compensates_in_reverse_then_cancels() -> None:
    w = World()
    oid = await w.place()
    await w.reserved(oid)
    await w.shipped(oid)
    saga_id = w.saga(oid).id
    await w.reply(
        "on_invoice_rejected",
        billing_pb2.InvoiceRejected(saga_id=saga_id, order_id=oid, reason="credit limit exceeded"),
    )
    assert w.store.sent_types()[-1] == "CancelShipmentsCommand"
    assert w.order(oid).status is OrderStatus.RESERVING  # cancelled once undone
    await w.reply(
        "on_shipments_cancelled", fulfillment_pb2.ShipmentsCancelled(saga_id=saga_id, order_id=oid)
    )
    assert w.store.sent_types()[-1] == "ReleaseStockCommand"
    await w.reply("on_stock_released", inventory_pb2.StockReleased(saga_id=saga_id, order_id=oid))
    assert w.order(oid).status is OrderStatus.CANCELLED
    assert w.order(oid).cancel_reason == "invoice rejected: credit limit exceeded"
    assert w.saga(oid).state is SagaState.COMPENSATED
    assert "VoidInvoiceCommand" not in w.store.sent_types()


async def test_rejected_stock_cancels_with_nothing_to_undo() -> None:
    w = World()
    oid = await w.place()
    await w.reply(
        "on_stock_rejected",
        inventory_pb2.StockRejected(
            saga_id=w.saga(oid).id, order_id=oid, reason="insufficient stock"
        ),
    )
    assert w.order(oid).status is OrderStatus.CANCELLED
    assert w.order(oid).cancel_reason == "stock rejected: insufficient stock"
    assert w.saga(oid).state is SagaState.COMPENSATED
    assert w.store.sent_types()[-1] == "OrderStatusChanged"


async def test_cancel_during_a_step_waits_for_its_reply_before_compensating() -> None:
    w = World()
    oid = await w.place()
    await handlers.cancel_order(
        commands.CancelOrder(oid, "changed my mind", "cust-1"), w.uow, w.orchestrator
    )
    assert w.order(oid).status is OrderStatus.CANCELLED
    assert "ReleaseStockCommand" not in w.store.sent_types()
    await w.reserved(oid)
    assert w.store.sent_types()[-1] == "ReleaseStockCommand"
    assert "CreateShipmentsCommand" not in w.store.sent_types()


async def test_cancel_after_invoicing_undoes_every_step_and_is_idempotent() -> None:
    w = World()
    oid = await w.place()
    await w.reserved(oid)
    await w.shipped(oid)
    await w.invoiced(oid)
    cancel = commands.CancelOrder(oid, "", "operator-1")
    await handlers.cancel_order(cancel, w.uow, w.orchestrator)
    await handlers.cancel_order(cancel, w.uow, w.orchestrator)
    assert w.store.sent_types().count("VoidInvoiceCommand") == 1
    assert w.order(oid).cancel_reason == "cancelled by operator-1"


async def test_cancel_after_dispatch_is_refused() -> None:
    w = World()
    oid = await w.place()
    await w.reserved(oid)
    await w.shipped(oid)
    await w.invoiced(oid)
    await w.reply(
        "on_shipment_dispatched",
        fulfillment_pb2.ShipmentDispatched(order_id=oid, shipment_id="s-1", warehouse="HZ-01"),
    )
    assert w.order(oid).status is OrderStatus.SHIPPED
    assert w.store.sent_types()[-2] == "ConfirmReservationCommand"
    with pytest.raises(errors.FailedPrecondition):
        await handlers.cancel_order(commands.CancelOrder(oid, "", "x"), w.uow, w.orchestrator)


async def test_delivery_of_every_shipment_completes_the_order() -> None:
    w = World()
    oid = await w.place()
    await w.reserved(oid)
    await w.shipped(oid)
    await w.invoiced(oid)
    for sid in ("s-1", "s-2"):
        await w.reply(
            "on_shipment_dispatched",
            fulfillment_pb2.ShipmentDispatched(order_id=oid, shipment_id=sid, warehouse="HZ-01"),
        )
    await w.reply(
        "on_shipment_delivered", fulfillment_pb2.ShipmentDelivered(order_id=oid, shipment_id="s-1")
    )
    assert w.order(oid).status is OrderStatus.SHIPPED
    await w.reply(
        "on_shipment_delivered", fulfillment_pb2.ShipmentDelivered(order_id=oid, shipment_id="s-2")
    )
    assert w.order(oid).status is OrderStatus.COMPLETED
    assert w.statuses(oid)[-3:] == ["shipped", "delivered", "completed"]


async def test_an_unpaid_order_whose_reservation_expires_is_cancelled() -> None:
    w = World()
    oid = await w.place(PaymentTerms.PREPAID)
    await w.reserved(oid)
    await w.reply(
        "on_reservation_expired",
        inventory_pb2.ReservationExpired(order_id=oid, reservation_id="r-1"),
    )
    assert w.order(oid).status is OrderStatus.CANCELLED
    assert w.order(oid).cancel_reason == "payment timeout"


def overdue(w: World, oid: str) -> None:
    w.store.sagas[oid].step_deadline = datetime.now(UTC) - timedelta(seconds=1)


async def test_a_late_step_is_resent_then_compensated_after_the_last_attempt() -> None:
    w = World(max_attempts=2)
    oid = await w.place()
    overdue(w, oid)
    await w.orchestrator.sweep(w.uow())
    assert w.store.sent_types().count("ReserveStockCommand") == 2
    assert w.saga(oid).step_attempts == 2
    overdue(w, oid)
    await w.orchestrator.sweep(w.uow())
    assert w.saga(oid).state is SagaState.COMPENSATING
    assert w.saga(oid).current_step is Step.RELEASE
    assert w.store.sent_types()[-1] == "ReleaseStockCommand"


async def test_a_compensation_that_keeps_failing_parks_and_an_operator_resumes_it() -> None:
    w = World(max_attempts=1)
    oid = await w.place()
    overdue(w, oid)
    await w.orchestrator.sweep(w.uow())  # reserve timed out -> release
    overdue(w, oid)
    await w.orchestrator.sweep(w.uow())  # release timed out -> parked
    assert w.saga(oid).state is SagaState.COMPENSATION_FAILED
    assert w.metrics.parked.labels("inventory.release")._value.get() == 1
    await w.orchestrator.sweep(w.uow())
    assert w.saga(oid).state is SagaState.COMPENSATION_FAILED

    await handlers.retry_saga(commands.RetrySaga(oid, "op"), w.uow, w.orchestrator)
    assert w.saga(oid).state is SagaState.COMPENSATING
    assert w.store.sent_types()[-1] == "ReleaseStockCommand"
    await w.reply(
        "on_stock_released", inventory_pb2.StockReleased(saga_id=w.saga(oid).id, order_id=oid)
    )
    assert w.order(oid).status is OrderStatus.CANCELLED
    assert w.order(oid).cancel_reason == "inventory.reserve timed out"


async def test_retry_of_a_finished_saga_is_refused() -> None:
    w = World()
    oid = await w.place(PaymentTerms.PREPAID)
    await w.reserved(oid)
    with pytest.raises(errors.FailedPrecondition):
        await handlers.retry_saga(commands.RetrySaga(oid, "op"), w.uow, w.orchestrator)


async def test_bad_input_is_refused_with_field_violations_and_nothing_stored() -> None:
    w = World()
    with pytest.raises(errors.InvalidArgument) as raised:
        await w.place(lines=(LineRequest("TEA", 1), LineRequest("NOPE", 1), LineRequest("OLD", 1)))
    assert set(raised.value.field_violations) == {"lines[1].sku", "lines[2].sku"}
    assert w.store.orders == {}


async def test_placing_the_same_client_order_twice_returns_the_first() -> None:
    w = World()
    first = await w.place()
    second = await w.place()
    assert first == second
    assert len(w.store.orders) == 1
