"""Protobuf messages from the services -> the edge schemas (and a few the other way)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge.order.v1 import order_pb2, promotions_pb2

from surge_gateway import schemas

__all__ = [
    "enum_name",
    "invoice_public",
    "order_detail",
    "order_public",
    "order_status_value",
    "shipment_public",
    "sku_public",
    "stock_public",
    "timestamp",
]


def enum_name(enum: Any, value: int, prefix: str) -> Any:
    """`ORDER_STATUS_PENDING_PAYMENT` -> "pending_payment"; None for UNSPECIFIED/unknown."""
    if value == 0:
        return None
    try:
        name: str = enum.Name(value)
    except ValueError:
        return None
    return name.removeprefix(prefix).lower()


def order_status_value(name: str) -> int:
    return int(order_pb2.OrderStatus.Value("ORDER_STATUS_" + name.upper()))


def payment_terms_value(name: str) -> int:
    return int(common_pb2.PaymentTerms.Value("PAYMENT_TERMS_" + name.upper()))


def timestamp(ts: Timestamp) -> datetime | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime(tzinfo=UTC)


def to_timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    return ts


def money(m: common_pb2.Money) -> schemas.Money:
    return schemas.Money(amount_minor=m.amount_minor, currency=m.currency or "CNY")


def _opt(value: str) -> str | None:
    return value or None


def _money(m: common_pb2.Money) -> dict[str, Any]:
    return {"amount_minor": m.amount_minor, "currency": m.currency or "CNY"}


def order_public(o: order_pb2.Order) -> schemas.OrderPublic:
    # Plain dicts validated in one pass: a model instance per nested value (address, each
    # line's three amounts...) cost a quarter more on every accepted order, for the same result.
    return schemas.OrderPublic.model_validate(_order_fields(o))


def _order_fields(o: order_pb2.Order) -> dict[str, Any]:
    address = o.shipping_address
    return {
        "id": o.id,
        "status": enum_name(order_pb2.OrderStatus, o.status, "ORDER_STATUS_"),
        "channel": o.channel,
        "external_id": _opt(o.external_id),
        "customer": {"id": o.customer.id, "name": o.customer.name, "phone": o.customer.phone},
        "shipping_address": {
            "province": address.province,
            "city": address.city,
            "district": address.district,
            "line1": address.line1,
            "postal_code": address.postal_code,
        },
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "line_discount": _money(line.line_discount),
                "line_total": _money(line.line_total),
            }
            for line in o.lines
        ],
        "subtotal": _money(o.subtotal),
        "discount_total": _money(o.discount_total),
        "total": _money(o.total),
        "payment_terms": enum_name(common_pb2.PaymentTerms, o.payment_terms, "PAYMENT_TERMS_"),
        "tags": list(o.tags),
        "cancel_reason": _opt(o.cancel_reason),
        "coupon_code": _opt(o.coupon_code),
        "created_at": timestamp(o.created_at),
        "updated_at": timestamp(o.updated_at),
        "version": o.version,
        "links": {
            "self": f"/v1/orders/{o.id}",
            "events": f"/v1/orders/{o.id}/events",
            "cancel": f"/v1/orders/{o.id}/cancel",
            "payments": f"/v1/orders/{o.id}/payments",
        },
        "pricing": [_line_pricing_fields(p) for p in o.line_pricing],
    }


def line_pricing(p: promotions_pb2.OrderLinePricing) -> schemas.LinePricing:
    return schemas.LinePricing.model_validate(_line_pricing_fields(p))


def _line_pricing_fields(p: promotions_pb2.OrderLinePricing) -> dict[str, Any]:
    # Plain dicts, as in `_order_fields`: validated once with the order that carries them.
    return {
        "sku": p.sku,
        "quantity": p.quantity,
        "gift_quantity": p.gift_quantity,
        "list_unit_price": _money(p.list_unit_price),
        "list_amount": _money(p.list_amount),
        "adjustments": [
            {
                "kind": a.kind,
                "promotion_id": _opt(a.promotion_id),
                "code": _opt(a.code),
                "amount": _money(a.amount),
            }
            for a in p.adjustments
        ],
        "final_amount": _money(p.final_amount),
    }


def saga(s: order_pb2.Saga) -> schemas.Saga:
    return schemas.Saga(
        id=s.id,
        state=enum_name(order_pb2.SagaState, s.state, "SAGA_STATE_"),
        current_step=_opt(s.current_step),
        steps=[
            schemas.SagaStep(
                step=step.step,
                direction=enum_name(order_pb2.SagaDirection, step.direction, "SAGA_DIRECTION_"),
                status=enum_name(order_pb2.SagaStepStatus, step.status, "SAGA_STEP_STATUS_"),
                attempts=step.attempts,
                started_at=timestamp(step.started_at),
                finished_at=timestamp(step.finished_at),
                failure_reason=_opt(step.failure_reason),
            )
            for step in s.steps
        ],
        started_at=timestamp(s.started_at),
        updated_at=timestamp(s.updated_at),
    )


def status_change(c: order_pb2.StatusChange) -> schemas.StatusChange:
    return schemas.StatusChange(
        from_status=enum_name(order_pb2.OrderStatus, c.from_status, "ORDER_STATUS_"),
        to_status=enum_name(order_pb2.OrderStatus, c.to_status, "ORDER_STATUS_") or "paid",
        reason=c.reason,
        at=timestamp(c.at),
    )


def order_detail(
    o: order_pb2.Order,
    shipments: list[fulfillment_pb2.Shipment],
    invoice: billing_pb2.Invoice | None,
) -> schemas.OrderDetail:
    return schemas.OrderDetail(
        **_order_fields(o),
        history=[status_change(c) for c in o.history if c.to_status],
        saga=saga(o.saga) if o.HasField("saga") else None,
        shipments=[shipment_public(s) for s in shipments],
        invoice=invoice_public(invoice) if invoice is not None else None,
    )


def shipment_public(s: fulfillment_pb2.Shipment) -> schemas.ShipmentPublic:
    return schemas.ShipmentPublic(
        id=s.id,
        order_id=s.order_id,
        warehouse=s.warehouse,
        carrier=s.carrier,
        tracking_number=s.tracking_number,
        status=enum_name(fulfillment_pb2.ShipmentStatus, s.status, "SHIPMENT_STATUS_"),
        lines=[schemas.ShipmentLine(sku=line.sku, quantity=line.quantity) for line in s.lines],
        weight_grams=s.weight_grams,
        created_at=timestamp(s.created_at),
        updated_at=timestamp(s.updated_at),
        dispatched_at=timestamp(s.dispatched_at),
        delivered_at=timestamp(s.delivered_at),
    )


def invoice_public(i: billing_pb2.Invoice) -> schemas.InvoicePublic:
    return schemas.InvoicePublic(
        id=i.id,
        number=i.number,
        order_id=i.order_id,
        customer_id=i.customer_id,
        status=enum_name(billing_pb2.InvoiceStatus, i.status, "INVOICE_STATUS_"),
        payment_terms=enum_name(common_pb2.PaymentTerms, i.payment_terms, "PAYMENT_TERMS_"),
        lines=[
            schemas.InvoiceLine(
                sku=line.sku,
                description=line.description,
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                discount=money(line.discount),
                tax=money(line.tax),
                amount=money(line.amount),
            )
            for line in i.lines
        ],
        subtotal=money(i.subtotal),
        discount_total=money(i.discount_total),
        tax=money(i.tax),
        total=money(i.total),
        issued_at=timestamp(i.issued_at),
        due_at=timestamp(i.due_at),
        paid_at=timestamp(i.paid_at),
        voided_at=timestamp(i.voided_at),
        void_reason=_opt(i.void_reason),
    )


def sku_public(s: inventory_pb2.Sku) -> schemas.SkuPublic:
    return schemas.SkuPublic(
        sku=s.sku,
        name=s.name,
        unit_price=money(s.unit_price),
        weight_grams=s.weight_grams,
        category=s.category,
        active=s.active,
    )


def stock_public(s: inventory_pb2.Stock) -> schemas.StockPublic:
    return schemas.StockPublic(
        sku=s.sku,
        on_hand=s.on_hand,
        reserved=s.reserved,
        available=s.available,
        warehouses=[
            schemas.WarehouseStock(
                warehouse=w.warehouse,
                on_hand=w.on_hand,
                reserved=w.reserved,
                available=w.available,
            )
            for w in s.warehouses
        ],
    )
