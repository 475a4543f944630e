"""Helpers for return tests: a shipped or delivered paid order, and waiting on returns and
balances."""

from __future__ import annotations

import pytest
from surge.billing.v1 import credit_notes_pb2 as cn
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.order.v1 import order_pb2
from surge.order.v1 import returns_pb2 as rp

from tests.integration.saga.conftest import place_request, wait_for_status
from tests.support import wait_until
from tests.system import System

pytestmark = pytest.mark.e2e

S = order_pb2


async def shipped_order(
    system: System, lines: list[tuple[str, int]]
) -> tuple[order_pb2.Order, list[str]]:
    """A prepaid order, paid and dispatched but not delivered: SHIPPED. Returns its shipment ids.
    Unique customer, phone and address (`place_request`), so no rule holds it for review."""
    reply = await system.order.PlaceOrder(
        place_request(lines, terms=common_pb2.PAYMENT_TERMS_PREPAID), timeout=10
    )
    order = await wait_for_status(system, reply.order.id, S.ORDER_STATUS_PENDING_PAYMENT)
    await system.order.RecordPayment(
        S.RecordPaymentRequest(
            order_id=order.id, amount=order.total, method="alipay", reference=f"ALI-{order.id}"
        ),
        timeout=5,
    )
    await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    listed = await system.fulfillment.ListShipments(
        fulfillment_pb2.ListShipmentsRequest(order_id=order.id), timeout=5
    )
    for shipment in listed.shipments:
        await system.fulfillment.DispatchShipment(
            fulfillment_pb2.DispatchShipmentRequest(shipment_id=shipment.id, actor="test"),
            timeout=5,
        )
    order = await wait_for_status(system, order.id, S.ORDER_STATUS_SHIPPED)
    return order, [s.id for s in listed.shipments]


async def delivered_order(system: System, lines: list[tuple[str, int]]) -> order_pb2.Order:
    """A prepaid order, paid, shipped and delivered: COMPLETED."""
    order, shipments = await shipped_order(system, lines)
    for shipment_id in shipments:
        await system.fulfillment.ConfirmDelivery(
            fulfillment_pb2.ConfirmDeliveryRequest(shipment_id=shipment_id, actor="test"),
            timeout=5,
        )
    return await wait_for_status(system, order.id, S.ORDER_STATUS_COMPLETED)


async def request_return(
    system: System,
    order_id: str,
    lines: list[tuple[str, int]],
    kind: rp.ReturnKind.ValueType = rp.RETURN_KIND_RETURN,
) -> rp.OrderReturn:
    reply = await system.returns.RequestReturn(
        rp.RequestReturnRequest(
            order_id=order_id,
            kind=kind,
            reason="not as described",
            lines=[rp.ReturnLineRequest(sku=sku, quantity=q) for sku, q in lines],
            actor="customer:test",
        ),
        timeout=5,
    )
    return reply.order_return


async def wait_for_return(
    system: System, return_id: str, state: rp.ReturnState.ValueType, deadline: float = 30
) -> rp.OrderReturn:
    latest: list[rp.OrderReturn] = []

    async def reached() -> bool:
        reply = await system.returns.GetReturn(rp.GetReturnRequest(return_id=return_id), timeout=5)
        latest[:] = [reply.order_return]
        return reply.order_return.state == state

    try:
        await wait_until(reached, deadline, f"return {return_id} {rp.ReturnState.Name(state)}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen:\n{latest[0] if latest else None}") from None
    return latest[0]


async def balance(system: System, order_id: str) -> cn.OrderBalance:
    reply = await system.refunds.GetOrderBalance(
        cn.GetOrderBalanceRequest(order_id=order_id), timeout=5
    )
    return reply.balance


def invariant_holds(b: cn.OrderBalance) -> bool:
    """balance = invoiced - credited - paid + refunded, and a settled prepaid order owes 0."""
    computed = (
        b.invoiced.amount_minor
        - b.credited.amount_minor
        - b.paid.amount_minor
        + b.refunded.amount_minor
    )
    return computed == b.balance.amount_minor == 0
