"""The protobuf messages the saga sends: one function per step, built from the order and saga.

Pure: no I/O, so resending a step (the sweeper, an operator retry) builds the same command.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge.order.v1 import order_pb2

from surge_order.domain.model import Order, Saga, StatusChange
from surge_order.domain.rules import CARRIER_TAG, WAREHOUSE_TAG, routed
from surge_order.domain.saga import Step
from surge_order.domain.status import OrderStatus

__all__ = ["status_changed", "step_commands"]


def step_commands(step: Step, order: Order, saga: Saga, ttl_seconds: int) -> list[Message]:
    """The command(s) that perform `step` for the order."""
    reason = saga.failure_reason or "order cancelled"
    if step is Step.RESERVE:
        return [
            inventory_pb2.ReserveStockCommand(
                saga_id=saga.id,
                order_id=order.id,
                region=order.address.province,
                lines=[
                    inventory_pb2.ReserveLine(sku=ln.sku, quantity=ln.quantity)
                    for ln in order.lines
                ],
                ttl_seconds=ttl_seconds,
                preferred_warehouse=routed(order.tags, WAREHOUSE_TAG),
            )
        ]
    if step is Step.CREATE_SHIPMENT:
        weights = order.weight_per_unit
        return [
            # The order moves on: its hold must stop expiring.
            inventory_pb2.CommitReservationCommand(saga_id=saga.id, order_id=order.id),
            fulfillment_pb2.CreateShipmentsCommand(
                saga_id=saga.id,
                order_id=order.id,
                address=_address(order),
                items=[
                    fulfillment_pb2.ShipmentItem(
                        sku=a.sku,
                        warehouse=a.warehouse,
                        quantity=a.quantity,
                        weight_grams=a.quantity * weights.get(a.sku, 0),
                    )
                    for a in saga.allocations
                ],
                carrier=routed(order.tags, CARRIER_TAG),
            ),
        ]
    if step is Step.ISSUE_INVOICE:
        return [
            billing_pb2.IssueInvoiceCommand(
                saga_id=saga.id,
                order_id=order.id,
                customer_id=order.customer.id,
                payment_terms=f"PAYMENT_TERMS_{order.payment_terms.value.upper()}",
                lines=_invoice_lines(order),
                total=_money(order.total_minor, order.currency),
            )
        ]
    if step is Step.RELEASE:
        return [
            inventory_pb2.ReleaseStockCommand(saga_id=saga.id, order_id=order.id, reason=reason)
        ]
    if step is Step.CANCEL_SHIPMENT:
        return [
            fulfillment_pb2.CancelShipmentsCommand(
                saga_id=saga.id, order_id=order.id, reason=reason
            )
        ]
    return [billing_pb2.VoidInvoiceCommand(saga_id=saga.id, order_id=order.id, reason=reason)]


def status_changed(order: Order, change: StatusChange) -> order_pb2.OrderStatusChanged:
    occurred = Timestamp()
    occurred.FromDatetime(change.at)
    return order_pb2.OrderStatusChanged(
        order_id=order.id,
        customer_id=order.customer.id,
        channel=order.channel,
        from_status=_status(change.from_status),
        to_status=_status(change.to_status),
        reason=change.reason,
        occurred_at=occurred,
        version=change.version,
        # For billing's order ledger (reconciliation, issue 6).
        total=_money(order.total_minor, order.currency),
        payment_terms=f"PAYMENT_TERMS_{order.payment_terms.value.upper()}",
        placed_at=_timestamp(order.created_at),
    )


def _timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def _money(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency=currency)


def _status(status: OrderStatus | None) -> str:
    return f"ORDER_STATUS_{status.value.upper()}" if status else "ORDER_STATUS_UNSPECIFIED"


def _address(order: Order) -> common_pb2.Address:
    a = order.address
    return common_pb2.Address(
        province=a.province,
        city=a.city,
        district=a.district,
        line1=a.line1,
        postal_code=a.postal_code,
    )


def _invoice_lines(order: Order) -> Sequence[billing_pb2.InvoiceLine]:
    return [
        billing_pb2.InvoiceLine(
            sku=ln.sku,
            description=ln.name,
            quantity=ln.quantity,
            unit_price=_money(ln.unit_price_minor, order.currency),
            discount=_money(ln.discount_minor, order.currency),
            tax=_money(0, order.currency),
            amount=_money(ln.total_minor, order.currency),
        )
        for ln in order.lines
    ]
