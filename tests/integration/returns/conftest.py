"""Helpers for return tests: a delivered, paid order, and waiting on returns and balances."""

from __future__ import annotations

import pytest
from surge.billing.v1 import credit_notes_pb2 as cn
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.order.v1 import order_pb2
from surge.order.v1 import returns_pb2 as rp

from tests.integration.saga.conftest import wait_for_status
from tests.support import wait_until
from tests.system import System

pytestmark = pytest.mark.e2e

S = order_pb2


async def delivered_order(system: System, lines: list[tuple[str, int]]) -> order_pb2.Order:
    """A prepaid order, paid, shipped and delivered: COMPLETED. Unique customer, phone and
    address, so rules on repeated addresses never hold it for review."""
    n = System.unique("R")
    reply = await system.order.PlaceOrder(
        S.PlaceOrderRequest(
            client_order_id=n,
            channel="web",
            customer=common_pb2.Customer(
                id=f"cust-{n}", name="Han Meimei", phone=f"+86139{abs(hash(n)) % 10**8:08d}"
            ),
            shipping_address=common_pb2.Address(
                province="Zhejiang",
                city="Hangzhou",
                district="Xihu",
                line1=f"{n} Wensan Rd",
                postal_code="310000",
            ),
            lines=[S.PlaceOrderLine(sku=sku, quantity=qty) for sku, qty in lines],
            payment_terms=common_pb2.PAYMENT_TERMS_PREPAID,
        ),
        timeout=10,
    )
    order = await wait_for_status(system, reply.order.id, S.ORDER_STATUS_PENDING_PAYMENT)
    await system.order.RecordPayment(
        S.RecordPaymentRequest(
            order_id=order.id, amount=order.total, method="alipay", reference=f"ALI-{n}"
        ),
        timeout=5,
    )
    await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    shipments = await system.fulfillment.ListShipments(
        fulfillment_pb2.ListShipmentsRequest(order_id=order.id), timeout=5
    )
    for shipment in shipments.shipments:
        await system.fulfillment.DispatchShipment(
            fulfillment_pb2.DispatchShipmentRequest(shipment_id=shipment.id, actor="test"),
            timeout=5,
        )
    for shipment in shipments.shipments:
        await system.fulfillment.ConfirmDelivery(
            fulfillment_pb2.ConfirmDeliveryRequest(shipment_id=shipment.id, actor="test"),
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
