"""Helpers for whole-system saga tests: place orders and wait for them to settle."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from surge.common.v1 import common_pb2
from surge.inventory.v1 import inventory_pb2
from surge.order.v1 import order_pb2

from tests.support import wait_until
from tests.system import System

pytestmark = pytest.mark.e2e

ADDRESS = common_pb2.Address(
    province="Zhejiang",
    city="Hangzhou",
    district="Xihu",
    line1="1 Lingyin Rd",
    postal_code="310000",
)


def unique_phone() -> str:
    return f"+86139{uuid.uuid4().int % 10**8:08d}"


def unique_address() -> common_pb2.Address:
    address = common_pb2.Address()
    address.CopyFrom(ADDRESS)
    address.line1 = f"{uuid.uuid4().int % 10**6} Lingyin Rd"
    return address


TERMINAL_SAGA = {order_pb2.SAGA_STATE_COMPLETED, order_pb2.SAGA_STATE_COMPENSATED}


def place_request(
    lines: list[tuple[str, int]],
    *,
    terms: common_pb2.PaymentTerms.ValueType = common_pb2.PAYMENT_TERMS_ON_ACCOUNT,
    customer_id: str | None = None,
    client_order_id: str | None = None,
) -> order_pb2.PlaceOrderRequest:
    return order_pb2.PlaceOrderRequest(
        client_order_id=client_order_id or System.unique("CO"),
        channel="web",
        customer=common_pb2.Customer(
            id=customer_id or System.unique("cust"), name="Li Lei", phone=unique_phone()
        ),
        # A phone and an address of its own: the velocity rule holds a 4th order to either.
        shipping_address=unique_address(),
        lines=[order_pb2.PlaceOrderLine(sku=sku, quantity=qty) for sku, qty in lines],
        payment_terms=terms,
    )


async def get_order(system: System, order_id: str) -> order_pb2.Order:
    reply = await system.order.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), timeout=5)
    return reply.order


async def wait_for_order(
    system: System,
    order_id: str,
    condition: Callable[[order_pb2.Order], bool],
    what: str,
    deadline: float = 30,
) -> order_pb2.Order:
    latest: list[order_pb2.Order] = []

    async def check() -> bool:
        latest[:] = [await get_order(system, order_id)]
        return condition(latest[0])

    try:
        await wait_until(check, deadline, f"order {order_id}: {what}", interval=0.05)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen:\n{latest[0] if latest else None}") from None
    return latest[0]


async def wait_for_status(
    system: System, order_id: str, status: int, deadline: float = 30
) -> order_pb2.Order:
    return await wait_for_order(
        system,
        order_id,
        lambda o: o.status == status,
        f"status {order_pb2.OrderStatus.Name(status)}",
        deadline,  # type: ignore[arg-type]
    )


async def stock(system: System, sku: str) -> inventory_pb2.Stock:
    reply = await system.inventory.GetStock(inventory_pb2.GetStockRequest(sku=sku), timeout=5)
    return reply.stock


def levels(s: inventory_pb2.Stock) -> tuple[int, int, int]:
    return s.on_hand, s.reserved, s.available
