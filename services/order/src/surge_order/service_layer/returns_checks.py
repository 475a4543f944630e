"""What a return request may ask for: which orders, which window, and what the units are worth
(the order's price breakdown: gift units are worth nothing; see `domain.returns`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from surge_platform import errors

from surge_order.domain.model import Order
from surge_order.domain.returns import (
    Return,
    ReturnKind,
    ReturnLine,
    claimed_amounts,
    price_return,
    returned_units,
)
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import promotions
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["RETURNABLE", "all_delivered", "check_returnable", "price"]

RETURNABLE = frozenset(
    {
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
        OrderStatus.REFUND_REQUESTED,
        OrderStatus.PARTIALLY_REFUNDED,
    }
)


async def all_delivered(uow: OrderUnitOfWork, order_id: str) -> bool:
    counts = await uow.orders.shipment_counts(order_id)
    return counts.delivered == counts.total


async def check_returnable(
    uow: OrderUnitOfWork, order: Order, kind: ReturnKind, window: timedelta, now: datetime
) -> None:
    """Goods come back from a delivered order, within the window after its last delivery; a
    shipped order that never arrived (or arrived short) may ask for its money without goods
    (refund-only) until it is delivered."""
    if kind is ReturnKind.REFUND_ONLY and order.status is OrderStatus.SHIPPED:
        return
    if order.status not in RETURNABLE:
        raise errors.FailedPrecondition(
            f"order {order.id} is {order.status}; only a delivered order can be returned"
            " (a shipped one: refund-only)"
        )
    if not await all_delivered(uow, order.id):
        if kind is ReturnKind.RETURN:
            raise errors.FailedPrecondition(
                f"order {order.id} is not delivered yet; only a refund-only return is possible"
            )
        return  # still in transit: the window starts at delivery
    delivered = await uow.returns.delivered_at(order.id) or order.updated_at
    if now > delivered + window:
        raise errors.FailedPrecondition(
            f"the return window of order {order.id} closed at {(delivered + window).isoformat()}"
        )


async def price(
    uow: OrderUnitOfWork,
    order: Order,
    earlier: Sequence[Return],
    wanted: Sequence[tuple[str, int]],
) -> tuple[ReturnLine, ...]:
    gifts: dict[str, int] = {}
    for line in await promotions.breakdown(uow, order):
        gifts[line.sku] = gifts.get(line.sku, 0) + line.gift_quantity
    return price_return(
        [(ln.sku, ln.quantity, ln.total_minor) for ln in order.lines],
        returned_units(earlier),
        wanted,
        gifts,
        claimed_amounts(earlier),
    )
