"""A return follows the order's price breakdown: gift units (buy X get Y) are worth nothing."""

from __future__ import annotations

import grpc
import pytest
from surge.order.v1 import order_pb2, promotions_pb2_grpc
from surge.order.v1 import promotions_pb2 as pp
from surge.order.v1 import returns_pb2 as rp

from tests.integration.returns.conftest import (
    balance,
    delivered_order,
    invariant_holds,
    request_return,
    wait_for_return,
)
from tests.integration.saga.conftest import wait_for_status
from tests.system import System

pytestmark = pytest.mark.e2e

S = order_pb2


async def test_gift_units_come_back_first_for_nothing_and_the_paid_ones_for_what_was_paid(
    system: System,
) -> None:
    tea = system.unique("TEA")
    await system.create_sku(tea, {"HZ-01": 10}, price_minor=1_000)
    async with grpc.aio.insecure_channel(system.address("order")) as channel:
        await promotions_pb2_grpc.PromotionServiceStub(channel).CreatePromotion(
            pp.CreatePromotionRequest(
                promotion=pp.Promotion(
                    name=f"buy 2 {tea} get 1",
                    kind=pp.PROMOTION_KIND_GIFT,
                    active=True,
                    buy_sku=tea,
                    buy_quantity=2,
                    gift_sku=tea,
                    gift_quantity=1,
                ),
                actor="test",
            ),
            timeout=5,
        )
    order = await delivered_order(system, [(tea, 2)])
    assert [(ln.sku, ln.quantity, ln.gift_quantity) for ln in order.line_pricing] == [(tea, 3, 1)]
    assert order.total.amount_minor == 2_000

    gift = await request_return(system, order.id, [(tea, 1)], rp.RETURN_KIND_REFUND_ONLY)
    assert gift.amount.amount_minor == 0
    paid = await request_return(system, order.id, [(tea, 2)], rp.RETURN_KIND_REFUND_ONLY)
    assert paid.amount.amount_minor == 2_000
    await system.returns.RejectReturn(
        rp.RejectReturnRequest(return_id=gift.id, actor="op", note="keep the gift"), timeout=5
    )
    # The unit given back by the rejection is still the gift: the paid ones are claimed.
    last = await request_return(system, order.id, [(tea, 1)], rp.RETURN_KIND_REFUND_ONLY)
    assert last.amount.amount_minor == 0
    await system.returns.ApproveReturn(rp.ApproveReturnRequest(return_id=last.id), timeout=5)
    closed = await wait_for_return(system, last.id, rp.RETURN_STATE_REFUNDED)
    assert closed.credit_note_id == ""  # nothing to credit: no empty credit note
    await system.returns.ApproveReturn(rp.ApproveReturnRequest(return_id=paid.id), timeout=5)
    await wait_for_return(system, paid.id, rp.RETURN_STATE_REFUNDED)
    await wait_for_status(system, order.id, S.ORDER_STATUS_REFUNDED)
    b = await balance(system, order.id)
    assert (b.paid.amount_minor, b.refunded.amount_minor) == (2_000, 2_000)
    assert invariant_holds(b)
