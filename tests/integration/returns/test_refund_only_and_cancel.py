"""Refund-only for a parcel that never arrived (or arrived short), the delivery that comes after
it anyway, and the refund of an on-account order paid in billing and then cancelled."""

from __future__ import annotations

import grpc
import pytest
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from surge.billing.v1 import billing_pb2
from surge.billing.v1 import credit_notes_pb2 as cn
from surge.fulfillment.v1 import fulfillment_pb2
from surge.order.v1 import order_pb2
from surge.order.v1 import returns_pb2 as rp
from surge_platform.messaging import Topology, connect

from tests.integration.returns.conftest import (
    balance,
    invariant_holds,
    request_return,
    shipped_order,
    wait_for_return,
)
from tests.integration.saga.conftest import (
    get_order,
    place_request,
    wait_for_order,
    wait_for_status,
)
from tests.support import wait_until
from tests.system import System

pytestmark = pytest.mark.e2e

S = order_pb2


async def deliver(system: System, shipment_ids: list[str]) -> None:
    """Confirm the deliveries and wait until the order service has acknowledged their events
    (it acks after its transaction commits; a handler that raised leaves them unacked)."""
    topology = Topology(system.nats_prefix)
    stream_seqs: dict[str, int] = {}

    async def collect(msg: Msg) -> None:
        event = fulfillment_pb2.ShipmentDelivered.FromString(msg.data)
        stream_seqs[event.shipment_id] = msg.metadata.sequence.stream

    client = await connect(system.nats_url, "delivery-test")
    js = client.jetstream()
    watch = await js.subscribe(
        topology.subject_for(fulfillment_pb2.ShipmentDelivered),
        cb=collect,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    try:
        for shipment_id in shipment_ids:
            await system.fulfillment.ConfirmDelivery(
                fulfillment_pb2.ConfirmDeliveryRequest(shipment_id=shipment_id, actor="carrier"),
                timeout=5,
            )
        await wait_until(lambda: stream_seqs.keys() >= set(shipment_ids), 30, "deliveries sent")
        last = max(stream_seqs[s] for s in shipment_ids)

        async def applied() -> bool:
            info = await js.consumer_info(
                topology.stream("fulfillment", "evt"), "order-fulfillment-events"
            )
            return (info.ack_floor.stream_seq or 0) >= last

        await wait_until(applied, 30, "the order service to apply the deliveries")
    finally:
        await watch.unsubscribe()
        await client.drain()


async def test_a_short_parcel_is_refunded_without_goods_and_its_late_delivery_keeps_the_refund(
    system: System,
) -> None:
    sku = system.unique("LONGJING")
    await system.create_sku(sku, {"HZ-01": 5}, price_minor=1_800)
    order, shipments = await shipped_order(system, [(sku, 2)])

    with pytest.raises(grpc.aio.AioRpcError) as not_delivered:
        await request_return(system, order.id, [(sku, 1)])  # goods back: not before delivery
    assert not_delivered.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    declined = await request_return(system, order.id, [(sku, 1)], rp.RETURN_KIND_REFUND_ONLY)
    assert (await get_order(system, order.id)).status == S.ORDER_STATUS_REFUND_REQUESTED
    await system.returns.RejectReturn(
        rp.RejectReturnRequest(return_id=declined.id, actor="op", note="carrier still tracking"),
        timeout=5,
    )
    assert (await get_order(system, order.id)).status == S.ORDER_STATUS_SHIPPED

    missing = await request_return(system, order.id, [(sku, 1)], rp.RETURN_KIND_REFUND_ONLY)
    await system.returns.ApproveReturn(
        rp.ApproveReturnRequest(return_id=missing.id, actor="op"), timeout=5
    )
    await wait_for_return(system, missing.id, rp.RETURN_STATE_REFUNDED)
    await wait_for_status(system, order.id, S.ORDER_STATUS_PARTIALLY_REFUNDED)
    b = await balance(system, order.id)
    assert b.refunded.amount_minor == 1_800
    assert invariant_holds(b)

    await deliver(system, shipments)
    assert (await get_order(system, order.id)).status == S.ORDER_STATUS_PARTIALLY_REFUNDED
    # The delivery was recorded: the unit that did arrive may now come back as a return.
    rest = await request_return(system, order.id, [(sku, 1)])
    assert rest.amount.amount_minor == 1_800
    with pytest.raises(grpc.aio.AioRpcError) as over:
        await request_return(system, order.id, [(sku, 1)], rp.RETURN_KIND_REFUND_ONLY)
    assert over.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_lost_parcel_is_refunded_in_full_and_a_delivery_after_it_changes_nothing(
    system: System,
) -> None:
    sku = system.unique("BILUOCHUN")
    await system.create_sku(sku, {"HZ-01": 5}, price_minor=2_500)
    order, shipments = await shipped_order(system, [(sku, 2)])

    lost = await request_return(system, order.id, [(sku, 2)], rp.RETURN_KIND_REFUND_ONLY)
    await system.returns.ApproveReturn(rp.ApproveReturnRequest(return_id=lost.id), timeout=5)
    await wait_for_return(system, lost.id, rp.RETURN_STATE_REFUNDED)
    await wait_for_status(system, order.id, S.ORDER_STATUS_REFUNDED)

    await deliver(system, shipments)
    after = await get_order(system, order.id)
    assert after.status == S.ORDER_STATUS_REFUNDED
    assert after.saga.state == S.SAGA_STATE_COMPLETED
    b = await balance(system, order.id)
    assert (b.paid.amount_minor, b.refunded.amount_minor) == (5_000, 5_000)
    assert invariant_holds(b)


async def test_an_on_account_order_paid_in_billing_and_cancelled_is_refunded_once(
    system: System,
) -> None:
    sku = system.unique("DAHONGPAO")
    await system.create_sku(sku, {"HZ-01": 10}, price_minor=3_000)

    async def invoiced_order() -> order_pb2.Order:
        reply = await system.order.PlaceOrder(place_request([(sku, 2)]), timeout=10)
        return await wait_for_status(system, reply.order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)

    unpaid, paid = await invoiced_order(), await invoiced_order()
    await system.billing.RecordPayment(
        billing_pb2.RecordPaymentRequest(
            order_id=paid.id,
            customer_id=paid.customer.id,
            amount=paid.total,
            method="bank transfer",
            reference=f"BANK-{paid.id}",
        ),
        timeout=5,
    )
    for order in (unpaid, paid):
        await system.order.CancelOrder(
            S.CancelOrderRequest(order_id=order.id, reason="customer withdrew"), timeout=5
        )
        await wait_for_order(
            system,
            order.id,
            lambda o: o.saga.state == S.SAGA_STATE_COMPENSATED,
            "compensated",
        )

    async def refunded() -> bool:
        return (await balance(system, paid.id)).refunded.amount_minor == 6_000

    await wait_until(refunded, 30, "the on-account payment to be refunded")
    b = await balance(system, paid.id)
    assert (b.invoiced.amount_minor, b.paid.amount_minor) == (0, 6_000)  # invoice voided
    assert invariant_holds(b)
    listed = await system.refunds.ListRefunds(cn.ListRefundsRequest(order_id=paid.id), timeout=5)
    assert [r.source_id for r in listed.refunds] == [f"cancel:{paid.id}"]
    # Cancelled first, through the same command stream: nothing was paid, nothing refunded.
    nothing = await system.refunds.ListRefunds(cn.ListRefundsRequest(order_id=unpaid.id), timeout=5)
    assert list(nothing.refunds) == []
    assert invariant_holds(await balance(system, unpaid.id))
