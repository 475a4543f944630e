"""Returns across the four real services: restock into the original warehouse, credit note,
refund, order status, and the balance invariant after every flow."""

from __future__ import annotations

import asyncio
import urllib.request

import grpc
import pytest
from nats.aio.msg import Msg
from surge.billing.v1 import credit_notes_pb2 as cn
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2
from surge.order.v1 import returns_pb2 as rp
from surge_platform.messaging import Topology, connect

from tests.integration.returns.conftest import (
    balance,
    delivered_order,
    invariant_holds,
    request_return,
    wait_for_return,
)
from tests.integration.saga.conftest import get_order, stock, wait_for_status
from tests.support import wait_until
from tests.system import REFUND_ESCALATION_SECONDS, System

pytestmark = pytest.mark.e2e

S = order_pb2


async def wait_for_on_hand(system: System, sku: str, units: int) -> None:
    async def reached() -> bool:
        return (await stock(system, sku)).on_hand == units

    await wait_until(reached, 15, f"{sku} on hand to be {units}")


def on_hand(s: object, warehouse: str) -> int:
    return next(w.on_hand for w in s.warehouses if w.warehouse == warehouse)  # type: ignore[attr-defined]


async def test_a_return_restocks_resellable_units_where_they_came_from_and_refunds_in_full(
    system: System,
) -> None:
    sku = system.unique("TEA")
    await system.create_sku(sku, {"HZ-01": 10, "SH-01": 10}, price_minor=1_500)
    order = await delivered_order(system, [(sku, 3)])
    await wait_for_on_hand(system, sku, 17)  # the dispatch took 3 (confirmed asynchronously)
    shipped = await stock(system, sku)
    assert (on_hand(shipped, "HZ-01"), on_hand(shipped, "SH-01")) == (7, 10)

    ret = await request_return(system, order.id, [(sku, 3)])
    assert ret.state == rp.RETURN_STATE_REQUESTED
    assert ret.amount.amount_minor == 4_500
    assert (await get_order(system, order.id)).status == S.ORDER_STATUS_REFUND_REQUESTED
    await system.returns.ApproveReturn(
        rp.ApproveReturnRequest(return_id=ret.id, actor="op"), timeout=5
    )
    await system.returns.ReceiveReturn(
        rp.ReceiveReturnRequest(
            return_id=ret.id,
            actor="op",
            lines=[rp.ReceivedLine(sku=sku, resellable_quantity=2, damaged_quantity=1)],
        ),
        timeout=5,
    )
    done = await wait_for_return(system, ret.id, rp.RETURN_STATE_REFUNDED)
    assert done.credit_note_number.startswith("CN-")
    await wait_for_status(system, order.id, S.ORDER_STATUS_REFUNDED)

    after = await stock(system, sku)
    # Two resellable units back into HZ-01 (where they shipped from), the damaged one not.
    assert (on_hand(after, "HZ-01"), on_hand(after, "SH-01")) == (9, 10)
    note = await system.refunds.GetCreditNote(
        cn.GetCreditNoteRequest(credit_note_id=done.credit_note_id), timeout=5
    )
    assert note.credit_note.total.amount_minor == 4_500
    assert note.credit_note.invoice_number.startswith("INV-")
    b = await balance(system, order.id)
    assert (b.paid.amount_minor, b.refunded.amount_minor) == (4_500, 4_500)
    assert invariant_holds(b)


async def test_partial_returns_add_up_to_the_line_and_an_over_refund_is_refused(
    system: System,
) -> None:
    tea, cup = system.unique("TEA"), system.unique("CUP")
    await system.create_sku(tea, {"HZ-01": 10}, price_minor=1_001)
    await system.create_sku(cup, {"HZ-01": 10}, price_minor=333)
    order = await delivered_order(system, [(tea, 3), (cup, 1)])

    first = await request_return(system, order.id, [(tea, 1)], rp.RETURN_KIND_REFUND_ONLY)
    assert first.amount.amount_minor == 1_001
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await request_return(system, order.id, [(tea, 3)])  # only 2 left
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await system.returns.ApproveReturn(rp.ApproveReturnRequest(return_id=first.id), timeout=5)
    await wait_for_return(system, first.id, rp.RETURN_STATE_REFUNDED)
    await wait_for_status(system, order.id, S.ORDER_STATUS_PARTIALLY_REFUNDED)
    assert invariant_holds(await balance(system, order.id))

    rest = await request_return(system, order.id, [(tea, 2), (cup, 1)], rp.RETURN_KIND_REFUND_ONLY)
    assert rest.amount.amount_minor == 2_002 + 333
    await system.returns.ApproveReturn(rp.ApproveReturnRequest(return_id=rest.id), timeout=5)
    await wait_for_return(system, rest.id, rp.RETURN_STATE_REFUNDED)
    await wait_for_status(system, order.id, S.ORDER_STATUS_REFUNDED)
    b = await balance(system, order.id)
    assert b.refunded.amount_minor == order.total.amount_minor == 3_336
    assert invariant_holds(b)

    with pytest.raises(grpc.aio.AioRpcError) as again:
        await request_return(system, order.id, [(cup, 1)])
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    listed = await system.returns.ListReturns(rp.ListReturnsRequest(order_id=order.id), timeout=5)
    assert [r.id for r in listed.returns] == [first.id, rest.id]


async def test_concurrent_requests_never_claim_more_units_than_were_bought(
    system: System,
) -> None:
    sku = system.unique("BLACK")
    await system.create_sku(sku, {"HZ-01": 5}, price_minor=700)
    order = await delivered_order(system, [(sku, 3)])

    outcomes = await asyncio.gather(
        *(request_return(system, order.id, [(sku, 1)]) for _ in range(6)),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if isinstance(o, rp.OrderReturn)]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(accepted) == 3
    assert {e.code() for e in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert sum(r.amount.amount_minor for r in accepted) == 2_100


async def test_refund_only_needs_no_goods_and_a_rejection_restores_the_order(
    system: System,
) -> None:
    sku = system.unique("PUER")
    await system.create_sku(sku, {"HZ-01": 5}, price_minor=2_000)
    order = await delivered_order(system, [(sku, 2)])
    await wait_for_on_hand(system, sku, 3)

    rejected = await request_return(system, order.id, [(sku, 1)])
    with pytest.raises(grpc.aio.AioRpcError) as no_note:
        await system.returns.RejectReturn(rp.RejectReturnRequest(return_id=rejected.id), timeout=5)
    assert no_note.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await system.returns.RejectReturn(
        rp.RejectReturnRequest(return_id=rejected.id, actor="op", note="used"), timeout=5
    )
    assert (await get_order(system, order.id)).status == S.ORDER_STATUS_COMPLETED

    missing = await request_return(system, order.id, [(sku, 1)], rp.RETURN_KIND_REFUND_ONLY)
    with pytest.raises(grpc.aio.AioRpcError) as no_goods:
        await system.returns.ReceiveReturn(
            rp.ReceiveReturnRequest(return_id=missing.id, lines=[]), timeout=5
        )
    assert no_goods.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await system.returns.ApproveReturn(rp.ApproveReturnRequest(return_id=missing.id), timeout=5)
    await wait_for_return(system, missing.id, rp.RETURN_STATE_REFUNDED)
    await wait_for_status(system, order.id, S.ORDER_STATUS_PARTIALLY_REFUNDED)
    assert (await stock(system, sku)).on_hand == 3  # nothing came back
    b = await balance(system, order.id)
    assert b.refunded.amount_minor == 2_000
    assert invariant_holds(b)


async def test_a_refused_credit_note_undoes_the_restock_and_fails_the_return(
    system: System,
) -> None:
    sku = system.unique("FAIL-CREDIT")  # billing's test hook refuses to credit it
    await system.create_sku(sku, {"HZ-01": 5}, price_minor=1_100)
    order = await delivered_order(system, [(sku, 2)])
    await wait_for_on_hand(system, sku, 3)

    ret = await request_return(system, order.id, [(sku, 2)])
    await system.returns.ApproveReturn(rp.ApproveReturnRequest(return_id=ret.id), timeout=5)
    await system.returns.ReceiveReturn(
        rp.ReceiveReturnRequest(
            return_id=ret.id,
            lines=[rp.ReceivedLine(sku=sku, resellable_quantity=2, damaged_quantity=0)],
        ),
        timeout=5,
    )
    failed = await wait_for_return(system, ret.id, rp.RETURN_STATE_FAILED)
    assert "credit note refused" in failed.failure_reason
    assert (await stock(system, sku)).on_hand == 3  # restocked, then taken back
    await wait_for_status(system, order.id, S.ORDER_STATUS_COMPLETED)
    b = await balance(system, order.id)
    assert (b.credited.amount_minor, b.refunded.amount_minor) == (0, 0)
    assert invariant_holds(b)


async def test_cancelling_a_paid_order_refunds_it_in_full(system: System) -> None:
    sku = system.unique("OOLONG")
    await system.create_sku(sku, {"HZ-01": 5}, price_minor=1_200)
    reply = await system.order.PlaceOrder(
        S.PlaceOrderRequest(
            client_order_id=system.unique("CO"),
            channel="web",
            customer=common_pb2.Customer(
                id=system.unique("cust"), name="Li Lei", phone="+8613912345678"
            ),
            shipping_address=common_pb2.Address(
                province="Zhejiang",
                city="Hangzhou",
                district="Binjiang",
                line1=system.unique("Road"),
                postal_code="310000",
            ),
            lines=[S.PlaceOrderLine(sku=sku, quantity=2)],
            payment_terms=common_pb2.PAYMENT_TERMS_PREPAID,
        ),
        timeout=10,
    )
    order = await wait_for_status(system, reply.order.id, S.ORDER_STATUS_PENDING_PAYMENT)
    await system.order.RecordPayment(
        S.RecordPaymentRequest(
            order_id=order.id, amount=order.total, method="wechat", reference="W1"
        ),
        timeout=5,
    )
    await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    await system.order.CancelOrder(
        S.CancelOrderRequest(order_id=order.id, reason="changed mind"), timeout=5
    )

    async def refunded() -> bool:
        b = await balance(system, order.id)
        return b.refunded.amount_minor == 2_400

    await wait_until(refunded, 30, "the cancelled order's payment to be refunded")
    b = await balance(system, order.id)
    assert (b.invoiced.amount_minor, b.paid.amount_minor) == (0, 2_400)  # invoice voided
    assert invariant_holds(b)
    listed = await system.refunds.ListRefunds(cn.ListRefundsRequest(order_id=order.id), timeout=5)
    assert [r.source_id for r in listed.refunds] == [f"cancel:{order.id}"]


async def test_a_refund_request_left_unhandled_is_escalated_once(system: System) -> None:
    seen: list[rp.ReturnEscalated] = []

    async def collect(msg: Msg) -> None:
        seen.append(rp.ReturnEscalated.FromString(msg.data))

    client = await connect(system.nats_url, "escalation-test")
    subject = Topology(system.nats_prefix).subject_for(rp.ReturnEscalated)
    await client.subscribe(subject, cb=collect)
    await client.flush()
    try:
        sku = system.unique("JASMINE")
        await system.create_sku(sku, {"HZ-01": 5}, price_minor=900)
        order = await delivered_order(system, [(sku, 2)])
        first = await request_return(system, order.id, [(sku, 1)])

        def escalated(return_id: str) -> bool:
            return any(e.return_id == return_id for e in seen)

        deadline = REFUND_ESCALATION_SECONDS + 15
        await wait_until(lambda: escalated(first.id), deadline, "the first return escalated")
        # A second request, escalated by later sweeps: those sweeps left the first one alone.
        second = await request_return(system, order.id, [(sku, 1)])
        await wait_until(lambda: escalated(second.id), deadline, "the second return escalated")
    finally:
        await client.drain()

    assert [e.return_id for e in seen if e.return_id in (first.id, second.id)] == [
        first.id,
        second.id,
    ]
    assert seen[0].state == rp.RETURN_STATE_REQUESTED
    got = await system.returns.GetReturn(rp.GetReturnRequest(return_id=first.id), timeout=5)
    assert got.order_return.HasField("escalated_at")
    metrics = await asyncio.to_thread(_scrape, system.services["order"].metrics_url)
    assert "surge_order_refund_escalations_total" in metrics


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return str(reply.read().decode())
