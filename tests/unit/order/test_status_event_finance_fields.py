"""OrderStatusChanged carries what billing's order ledger needs for reconciliation."""

from __future__ import annotations

from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2
from surge_order.domain.order import PaymentTerms

from tests.unit.order.test_saga_orchestrator import World


async def test_every_status_change_carries_total_terms_and_placement_time() -> None:
    w = World()
    oid = await w.place(PaymentTerms.PREPAID)
    order = w.order(oid)
    events = [m for _, m in w.store.sent if isinstance(m, order_pb2.OrderStatusChanged)]
    assert events
    for event in events:
        assert (event.total.amount_minor, event.total.currency) == (order.total_minor, "CNY")
        assert event.payment_terms == common_pb2.PAYMENT_TERMS_PREPAID
        assert event.placed_at.ToDatetime().replace(tzinfo=order.created_at.tzinfo) == (
            order.created_at
        )
