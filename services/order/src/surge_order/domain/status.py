"""Order status and its transition table: the only place that says which change is allowed.

`docs/order-lifecycle.md` is rendered from `TRANSITIONS` by `render_mermaid()`; a unit test fails
when the two differ.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["INITIAL", "TERMINAL", "TRANSITIONS", "OrderStatus", "can_transition", "render_mermaid"]


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PENDING_REVIEW = "pending_review"
    RESERVING = "reserving"
    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    REFUND_REQUESTED = "refund_requested"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


S = OrderStatus

# Statuses an order may be created in.
# A held order reserves first, then waits in pending_review (its stock cannot be sold twice).
INITIAL: frozenset[OrderStatus] = frozenset({S.RESERVING})

# status -> {next status: what causes it}; the cause labels the arrow in the diagram.
TRANSITIONS: dict[OrderStatus, dict[OrderStatus, str]] = {
    S.PENDING_REVIEW: {
        S.PENDING_PAYMENT: "review approved, prepaid",
        S.PAID: "review approved, paid",
        S.RESERVING: "review approved",
        S.CANCELLED: "review rejected / cancel",
    },
    S.RESERVING: {
        S.PENDING_REVIEW: "stock reserved, held for review",
        S.PENDING_PAYMENT: "stock reserved, prepaid",
        S.PAID: "payment before reservation",
        S.AWAITING_SHIPMENT: "shipments created, invoice issued",
        S.CANCELLED: "step failed / cancel",
    },
    S.PENDING_PAYMENT: {
        S.PAID: "payment recorded",
        S.CANCELLED: "payment timeout / cancel",
        S.CLOSED: "closed unpaid",
    },
    S.PAID: {
        S.PENDING_REVIEW: "stock reserved, held for review",
        S.AWAITING_SHIPMENT: "shipments created, invoice issued",
        S.CANCELLED: "step failed / cancel",
    },
    S.AWAITING_SHIPMENT: {S.SHIPPED: "first shipment dispatched", S.CANCELLED: "cancel"},
    S.SHIPPED: {
        S.DELIVERED: "every shipment delivered",
        S.REFUND_REQUESTED: "refund asked (lost or missing)",
    },
    S.DELIVERED: {S.COMPLETED: "delivered", S.REFUND_REQUESTED: "refund asked"},
    S.COMPLETED: {S.REFUND_REQUESTED: "refund asked"},
    S.REFUND_REQUESTED: {
        S.PARTIALLY_REFUNDED: "part refunded",
        S.REFUNDED: "all refunded",
        S.COMPLETED: "refund declined",
        S.SHIPPED: "refund declined, still in transit",
    },
    S.PARTIALLY_REFUNDED: {S.REFUND_REQUESTED: "refund asked", S.REFUNDED: "all refunded"},
    S.CANCELLED: {},
    S.CLOSED: {},
    S.REFUNDED: {},
}

TERMINAL: frozenset[OrderStatus] = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)


def can_transition(current: OrderStatus, requested: OrderStatus) -> bool:
    return requested in TRANSITIONS[current]


def render_mermaid() -> str:
    """The transition table as a mermaid stateDiagram (the body of docs/order-lifecycle.md)."""
    lines = ["stateDiagram-v2"]
    lines += [f"    [*] --> {status.value}" for status in sorted(INITIAL)]
    for status, nexts in TRANSITIONS.items():
        lines += [f"    {status.value} --> {nxt.value}: {why}" for nxt, why in nexts.items()]
    lines += [f"    {status.value} --> [*]" for status in sorted(TERMINAL)]
    return "\n".join(lines) + "\n"
