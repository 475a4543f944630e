"""Protobuf <-> domain translation for the order rpcs."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2

from surge_order.domain import commands
from surge_order.domain.model import Order
from surge_order.domain.order import Address, Customer, LineRequest, PaymentTerms
from surge_order.domain.status import OrderStatus
from surge_order.entrypoints.promotions_api import line_pricing_to_pb
from surge_order.service_layer.handlers import OrderView

__all__ = ["list_query", "order_to_pb", "place_command", "status_from_pb", "view_to_pb"]

_TERMS = {
    common_pb2.PAYMENT_TERMS_PREPAID: PaymentTerms.PREPAID,
    common_pb2.PAYMENT_TERMS_ON_ACCOUNT: PaymentTerms.ON_ACCOUNT,
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ts(at: datetime | None) -> Timestamp | None:
    if at is None:
        return None
    if at.tzinfo is None:  # naive means UTC, as FromDatetime reads it
        stamp = Timestamp()
        stamp.FromDatetime(at)
        return stamp
    # FromDatetime's arithmetic, a third of its CPU (an order reply carries about seven).
    since = at - _EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)


def _money(amount: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount, currency=currency)


def _enum_name(prefix: str, value: str) -> str:
    return f"{prefix}_{value.upper()}"


def status_to_pb(status: str | None) -> str:
    """The proto enum label (message constructors take labels) of a status."""
    return _enum_name("ORDER_STATUS", status or "unspecified")


def status_from_pb(value: int) -> OrderStatus | None:
    if value == order_pb2.ORDER_STATUS_UNSPECIFIED:
        return None
    name = order_pb2.OrderStatus.Name(value).removeprefix("ORDER_STATUS_").lower()
    return OrderStatus(name)


def place_command(request: order_pb2.PlaceOrderRequest) -> commands.PlaceOrder:
    c, a = request.customer, request.shipping_address
    return commands.PlaceOrder(
        client_order_id=request.client_order_id,
        channel=request.channel,
        external_id=request.external_id,
        customer=Customer(c.id, c.name, c.phone),
        address=Address(a.province, a.city, a.district, a.line1, a.postal_code),
        lines=tuple(LineRequest(line.sku, line.quantity) for line in request.lines),
        payment_terms=_TERMS.get(request.payment_terms),
        coupon_code=request.coupon_code,
        tags=tuple(request.tags),
    )


def list_query(request: order_pb2.ListOrdersRequest) -> commands.ListOrders:
    return commands.ListOrders(
        status=status_from_pb(request.status),
        channel=request.channel,
        customer_id=request.customer_id,
        created_from=(
            request.created_from.ToDatetime(UTC) if request.HasField("created_from") else None
        ),
        created_to=request.created_to.ToDatetime(UTC) if request.HasField("created_to") else None,
        page_size=request.page_size,
        page_token=request.page_token,
    )


def order_to_pb(order: Order) -> order_pb2.Order:
    cur = order.currency
    return order_pb2.Order(
        id=order.id,
        client_order_id=order.client_order_id,
        channel=order.channel,
        external_id=order.external_id or "",
        customer=common_pb2.Customer(
            id=order.customer.id, name=order.customer.name, phone=order.customer.phone
        ),
        shipping_address=common_pb2.Address(
            province=order.address.province,
            city=order.address.city,
            district=order.address.district,
            line1=order.address.line1,
            postal_code=order.address.postal_code,
        ),
        lines=[
            order_pb2.OrderLine(
                sku=ln.sku,
                name=ln.name,
                quantity=ln.quantity,
                unit_price=_money(ln.unit_price_minor, cur),
                line_discount=_money(ln.discount_minor, cur),
                line_total=_money(ln.total_minor, cur),
            )
            for ln in order.lines
        ],
        subtotal=_money(order.subtotal_minor, cur),
        discount_total=_money(order.discount_minor, cur),
        total=_money(order.total_minor, cur),
        payment_terms=_enum_name("PAYMENT_TERMS", order.payment_terms.value),
        status=status_to_pb(order.status.value),
        tags=list(order.tags),
        cancel_reason=order.cancel_reason,
        created_at=_ts(order.created_at),
        updated_at=_ts(order.updated_at),
        version=order.version,
        coupon_code=order.coupon_code,
    )


def view_to_pb(view: OrderView) -> order_pb2.Order:
    message = order_to_pb(view.order)
    saga = view.saga
    if saga is not None:
        message.saga.CopyFrom(
            order_pb2.Saga(
                id=saga.id,
                state=_enum_name("SAGA_STATE", saga.state.value),
                current_step=saga.current_step.value if saga.current_step else "",
                steps=[
                    order_pb2.SagaStep(
                        step=s.step,
                        direction=_enum_name("SAGA_DIRECTION", s.direction),
                        status=_enum_name("SAGA_STEP_STATUS", s.status),
                        attempts=s.attempts,
                        started_at=_ts(s.started_at),
                        finished_at=_ts(s.finished_at),
                        failure_reason=s.failure_reason,
                    )
                    for s in view.steps
                ],
                started_at=_ts(saga.started_at),
                updated_at=_ts(saga.updated_at),
            )
        )
    message.history.extend(
        order_pb2.StatusChange(
            from_status=status_to_pb(h.from_status),
            to_status=status_to_pb(h.to_status),
            reason=h.reason,
            at=_ts(h.at),
        )
        for h in view.history
    )
    message.line_pricing.extend(line_pricing_to_pb(view.pricing, view.order.currency))
    return message
