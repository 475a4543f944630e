"""The protobuf commands and events of returns: pure, so a resent step builds the same command."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from surge.billing.v1 import credit_notes_pb2
from surge.common.v1 import common_pb2
from surge.inventory.v1 import returns_pb2 as inventory_returns_pb2
from surge.order.v1 import returns_pb2

from surge_order.domain.model import Order
from surge_order.domain.returns import Return, ReturnState, ReturnStep

__all__ = ["escalated", "refund_cancelled_order", "step_command"]


def _money(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency=currency)


def _timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def step_command(ret: Return) -> Message:
    """The command that performs the return's current step."""
    if ret.step is ReturnStep.RESTOCK:
        return inventory_returns_pb2.RestockReturnCommand(
            return_id=ret.id,
            order_id=ret.order_id,
            lines=[
                inventory_returns_pb2.RestockLine(
                    sku=r.sku, warehouse=r.warehouse, quantity=r.quantity
                )
                for r in ret.restock
            ],
        )
    if ret.step is ReturnStep.CREDIT:
        return credit_notes_pb2.IssueCreditNoteCommand(
            return_id=ret.id,
            order_id=ret.order_id,
            customer_id=ret.customer_id,
            reason=ret.reason,
            lines=[
                credit_notes_pb2.CreditNoteLine(
                    sku=ln.sku, quantity=ln.quantity, amount=_money(ln.amount_minor, ret.currency)
                )
                for ln in ret.lines
            ],
            total=_money(ret.amount_minor, ret.currency),
        )
    return inventory_returns_pb2.ReverseRestockCommand(
        return_id=ret.id, order_id=ret.order_id, reason=ret.failure_reason
    )


def refund_cancelled_order(
    order: Order, reason: str
) -> credit_notes_pb2.RefundCancelledOrderCommand:
    """A cancelled order was compensated: billing refunds what was taken. Amount 0 (an order on
    account) asks billing to refund what it holds as paid, as the order service never saw it."""
    taken = order.total_minor if order.paid else 0
    return credit_notes_pb2.RefundCancelledOrderCommand(
        order_id=order.id,
        customer_id=order.customer.id,
        amount=_money(taken, order.currency),
        reason=reason,
    )


def escalated(
    return_id: str, order_id: str, state: ReturnState, requested_at: datetime
) -> returns_pb2.ReturnEscalated:
    return returns_pb2.ReturnEscalated(
        return_id=return_id,
        order_id=order_id,
        state=f"RETURN_STATE_{state.value.upper()}",
        requested_at=_timestamp(requested_at),
    )
