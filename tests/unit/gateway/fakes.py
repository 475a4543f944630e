"""Fake gRPC stubs of the four services, in memory, for gateway unit tests."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.duration_pb2 import Duration
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge.operations.v1 import operations_pb2
from surge.order.v1 import order_pb2
from surge_gateway.audit import AuditEntry, AuditPage
from surge_gateway.downstream import Downstream

from tests.unit.gateway.finance_fakes import FakeFinance, FakeReports


def rpc_error(
    code: grpc.StatusCode, details: str = "boom", violations: dict[str, str] | None = None
) -> grpc.aio.AioRpcError:
    trailing = grpc.aio.Metadata()
    if violations:
        status = status_pb2.Status(code=getattr(code_pb2, code.name), message=details)
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                    for f, d in violations.items()
                ]
            )
        )
        status.details.append(detail)
        trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(
        code,
        grpc.aio.Metadata(),
        trailing,
        details=details,
        debug_error_string="internal: order-7f9c at 10.0.0.12:50051",
    )


def cny(amount: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount, currency="CNY")


@dataclass
class FakeOrders:
    orders: dict[str, order_pb2.Order] = field(default_factory=dict)
    by_client_id: dict[tuple[str, str], str] = field(default_factory=dict)
    place_calls: int = 0
    fail: grpc.aio.AioRpcError | None = None
    hold: asyncio.Event | None = None  # PlaceOrder waits for it when set
    placing: int = 0
    get_calls: int = 0

    async def PlaceOrder(self, request: order_pb2.PlaceOrderRequest, timeout: float) -> Any:  # noqa: N802
        self.place_calls += 1
        self.placing += 1
        try:
            if self.hold is not None:
                await self.hold.wait()
            if self.fail is not None:
                raise self.fail
            key = (request.channel, request.client_order_id)
            if key in self.by_client_id:
                return order_pb2.PlaceOrderResponse(
                    order=self.orders[self.by_client_id[key]], created=False
                )
            order_id = f"0193-{len(self.orders) + 1:04d}"
            status = (
                order_pb2.ORDER_STATUS_PENDING_REVIEW
                if "possible_duplicate" in request.tags
                else order_pb2.ORDER_STATUS_PENDING_PAYMENT
            )
            lines = [
                order_pb2.OrderLine(
                    sku=line.sku,
                    name=line.sku.title(),
                    quantity=line.quantity,
                    unit_price=cny(1000),
                    line_discount=cny(0),
                    line_total=cny(1000 * line.quantity),
                )
                for line in request.lines
            ]
            total = sum(line.line_total.amount_minor for line in lines)
            order = order_pb2.Order(
                id=order_id,
                client_order_id=request.client_order_id,
                channel=request.channel,
                external_id=request.external_id,
                customer=request.customer,
                shipping_address=request.shipping_address,
                lines=lines,
                subtotal=cny(total),
                discount_total=cny(0),
                total=cny(total),
                payment_terms=request.payment_terms,
                status=status,
                tags=list(request.tags),
                version=1,
                history=[order_pb2.StatusChange(to_status=status, reason="placed")],
            )
            order.created_at.GetCurrentTime()
            self.orders[order_id] = order
            self.by_client_id[key] = order_id
            return order_pb2.PlaceOrderResponse(order=order, created=True)
        finally:
            self.placing -= 1

    def _get(self, order_id: str) -> order_pb2.Order:
        if self.fail is not None:
            raise self.fail
        if order_id not in self.orders:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, f"order {order_id} not found")
        return self.orders[order_id]

    def advance(self, order_id: str, status: int, reason: str) -> None:
        order = self.orders[order_id]
        order.history.append(
            order_pb2.StatusChange(from_status=order.status, to_status=status, reason=reason)
        )
        order.status = status  # type: ignore[assignment]
        order.version += 1

    async def GetOrder(self, request: order_pb2.GetOrderRequest, timeout: float) -> Any:  # noqa: N802
        self.get_calls += 1
        return order_pb2.GetOrderResponse(order=self._get(request.order_id))

    async def ListOrders(self, request: order_pb2.ListOrdersRequest, timeout: float) -> Any:  # noqa: N802
        if self.fail is not None:
            raise self.fail
        found = [
            o
            for o in self.orders.values()
            if not request.customer_id or o.customer.id == request.customer_id
        ]
        return order_pb2.ListOrdersResponse(orders=found)

    async def CancelOrder(self, request: order_pb2.CancelOrderRequest, timeout: float) -> Any:  # noqa: N802
        self._get(request.order_id)
        self.advance(request.order_id, order_pb2.ORDER_STATUS_CANCELLED, request.reason)
        return order_pb2.CancelOrderResponse(order=self.orders[request.order_id])

    async def RecordPayment(self, request: order_pb2.RecordPaymentRequest, timeout: float) -> Any:  # noqa: N802
        self._get(request.order_id)
        self.advance(request.order_id, order_pb2.ORDER_STATUS_PAID, "payment received")
        return order_pb2.RecordPaymentResponse(order=self.orders[request.order_id])

    async def RetrySaga(self, request: order_pb2.RetrySagaRequest, timeout: float) -> Any:  # noqa: N802
        return order_pb2.RetrySagaResponse(order=self._get(request.order_id))

    async def ListSagas(self, request: order_pb2.ListSagasRequest, timeout: float) -> Any:  # noqa: N802
        return order_pb2.ListSagasResponse()

    async def CompensateSaga(  # noqa: N802
        self, request: order_pb2.CompensateSagaRequest, timeout: float
    ) -> Any:
        self._get(request.order_id)
        self.advance(request.order_id, order_pb2.ORDER_STATUS_CANCELLED, "forced by operator")
        return order_pb2.CompensateSagaResponse(order=self.orders[request.order_id])


SKU = inventory_pb2.Sku(
    sku="TEA-1",
    name="Longjing tea",
    unit_price=cny(1000),
    weight_grams=250,
    category="tea",
    active=True,
)


@dataclass
class FakeInventory:
    async def GetSku(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return inventory_pb2.GetSkuResponse(sku=SKU)

    async def CreateSku(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return inventory_pb2.CreateSkuResponse(sku=request.sku)

    async def GetStock(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return inventory_pb2.GetStockResponse(
            stock=inventory_pb2.Stock(sku=request.sku, on_hand=10, reserved=2, available=8)
        )

    async def AdjustStock(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return inventory_pb2.AdjustStockResponse(
            stock=inventory_pb2.Stock(sku=request.sku, on_hand=10 + request.quantity)
        )

    async def ListWarehouses(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return inventory_pb2.ListWarehousesResponse(
            warehouses=[inventory_pb2.Warehouse(code="HZ", name="Hangzhou", region="east")]
        )


@dataclass
class FakeFulfillment:
    order_id: str = "0193-0001"

    def _shipment(self, shipment_id: str, status: int) -> fulfillment_pb2.Shipment:
        return fulfillment_pb2.Shipment(
            id=shipment_id,
            order_id=self.order_id,
            warehouse="HZ",
            carrier="sf",
            tracking_number="SF1",
            status=status,  # type: ignore[arg-type]
        )

    async def GetShipment(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return fulfillment_pb2.GetShipmentResponse(
            shipment=self._shipment(request.shipment_id, fulfillment_pb2.SHIPMENT_STATUS_CREATED)
        )

    async def ListShipments(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return fulfillment_pb2.ListShipmentsResponse()

    async def DispatchShipment(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return fulfillment_pb2.DispatchShipmentResponse(
            shipment=self._shipment(request.shipment_id, fulfillment_pb2.SHIPMENT_STATUS_DISPATCHED)
        )

    async def ConfirmDelivery(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return fulfillment_pb2.ConfirmDeliveryResponse(
            shipment=self._shipment(request.shipment_id, fulfillment_pb2.SHIPMENT_STATUS_DELIVERED)
        )


@dataclass
class FakeBilling:
    customer_id: str = "cust-1"

    def _invoice(self, invoice_id: str) -> billing_pb2.Invoice:
        return billing_pb2.Invoice(
            id=invoice_id,
            number="INV-2026-000001",
            order_id="0193-0001",
            customer_id=self.customer_id,
            status=billing_pb2.INVOICE_STATUS_ISSUED,
            total=cny(1000),
        )

    async def GetInvoice(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return billing_pb2.GetInvoiceResponse(invoice=self._invoice(request.invoice_id))

    async def ListInvoices(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return billing_pb2.ListInvoicesResponse(invoices=[self._invoice("inv-1")])


@dataclass
class FakeHealth:
    serving: bool = True

    async def Check(self, request: Any, timeout: float) -> Any:  # noqa: N802
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if self.serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        return health_pb2.HealthCheckResponse(status=status)


@dataclass
class FakeOperations:
    """One service's OperationsService: dead letters by sequence, a fixed backlog."""

    service: str
    letters: dict[int, operations_pb2.DeadLetter] = field(default_factory=dict)
    redriven: list[int] = field(default_factory=list)
    fail: grpc.aio.AioRpcError | None = None

    def add(self, sequence: int, subject: str = "surge.inventory.cmd.reserve_stock") -> None:
        self.letters[sequence] = operations_pb2.DeadLetter(
            sequence=sequence,
            consumer=f"{self.service}-commands",
            subject=subject,
            message_type="surge.inventory.v1.ReserveStockCommand",
            message_id=f"m-{sequence}",
            reason="boom",
            deliveries=5,
            headers={"Surge-Message-Id": f"m-{sequence}"},
            data=inventory_pb2.ReserveStockCommand(order_id=f"o-{sequence}").SerializeToString(),
        )

    def _pick(self, sequences: Any, everything: bool) -> list[operations_pb2.DeadLetter]:
        if self.fail is not None:
            raise self.fail
        if everything:
            return list(self.letters.values())
        missing = [s for s in sequences if s not in self.letters]
        if missing:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, f"no dead letter #{missing[0]}")
        return [self.letters[s] for s in sequences]

    async def ListDeadLetters(self, request: Any, timeout: float) -> Any:  # noqa: N802
        found = self._pick((), everything=True)[: request.page_size or 1000]
        return operations_pb2.ListDeadLettersResponse(dead_letters=found)

    async def GetDeadLetter(self, request: Any, timeout: float) -> Any:  # noqa: N802
        [letter] = self._pick([request.sequence], everything=False)
        return operations_pb2.GetDeadLetterResponse(dead_letter=letter)

    async def RedriveDeadLetters(self, request: Any, timeout: float) -> Any:  # noqa: N802
        found = self._pick(request.sequences, request.all)
        for letter in found:
            self.redriven.append(letter.sequence)
            del self.letters[letter.sequence]
        return operations_pb2.RedriveDeadLettersResponse(dead_letters=found)

    async def PurgeDeadLetters(self, request: Any, timeout: float) -> Any:  # noqa: N802
        found = self._pick(request.sequences, request.all)
        for letter in found:
            del self.letters[letter.sequence]
        return operations_pb2.PurgeDeadLettersResponse(dead_letters=found)

    async def GetBacklog(self, request: Any, timeout: float) -> Any:  # noqa: N802
        if self.fail is not None:
            raise self.fail
        return operations_pb2.GetBacklogResponse(
            service=self.service,
            outbox_rows=3,
            outbox_oldest_age=Duration(seconds=2, nanos=500_000_000),
            consumers=[
                operations_pb2.ConsumerLag(
                    consumer=f"{self.service}-commands", pending=7, ack_pending=1
                )
            ],
            dead_letters=len(self.letters),
        )


SERVICES = ("order", "inventory", "fulfillment", "billing")


def fake_downstream() -> Downstream:
    down = Downstream(
        orders=FakeOrders(),
        inventory=FakeInventory(),
        fulfillment=FakeFulfillment(),
        billing=FakeBilling(),
        health={n: FakeHealth() for n in SERVICES},
    )
    down.operations = {n: FakeOperations(n) for n in SERVICES}
    # Imported here: rules_fakes imports rpc_error from this module.
    from tests.unit.gateway.rules_fakes import FakeReviews, FakeRules

    down.rules, down.reviews = FakeRules(), FakeReviews()
    from tests.unit.gateway.promotions_fakes import FakePromotions  # import cycle

    down.promotions = FakePromotions()
    down.finance, down.reports = FakeFinance(), FakeReports()
    from tests.unit.gateway.returns_fakes import FakeRefunds, FakeReturns  # import cycle

    down.returns, down.refunds = FakeReturns(), FakeRefunds()
    for sequence in (1, 2, 3):
        down.operations["inventory"].add(sequence)
    return down


@dataclass
class MemoryApiKeys:
    keys: dict[str, Any] = field(default_factory=dict)

    async def find(self, key_hash: str) -> Any:
        return self.keys.get(key_hash)


@dataclass
class MemoryIntakeLog:
    """Same semantics as PgIntakeLog, without time travel: everything is 'now'. Indexed by
    (phone, SKUs), so a look-up stays O(1) over the thousands of orders of bench/gateway_app.py."""

    rows: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    by_match: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)

    async def record(
        self, channel: str, identity: str, phone_hash: str, skus: str, window: timedelta
    ) -> bool:
        same = self.by_match.setdefault((phone_hash, skus), set())
        duplicate = any(key != (channel, identity) for key in same)
        if (channel, identity) not in self.rows:
            self.rows[(channel, identity)] = (phone_hash, skus)
            same.add((channel, identity))
        return duplicate

    async def forget(self, channel: str, identity: str) -> None:
        found = self.rows.pop((channel, identity), None)
        if found is not None:
            self.by_match[found].discard((channel, identity))


@dataclass
class MemoryAuditLog:
    """Same paging as PgAuditLog: newest first, `before` an id."""

    entries: list[AuditEntry] = field(default_factory=list)

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(dataclasses.replace(entry, id=len(self.entries) + 1))

    async def page(self, before: int | None, limit: int, action: str | None) -> AuditPage:
        found = [
            e
            for e in reversed(self.entries)
            if (before is None or e.id < before) and (action is None or e.action == action)
        ]
        more = len(found) > limit
        return AuditPage(found[:limit], found[limit - 1].id if more else None)
