"""The reserve -> ship -> invoice saga across the four real services, and its compensations."""

from __future__ import annotations

import asyncio
import urllib.request

import grpc
import pytest
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge.order.v1 import order_pb2
from surge_platform.grpc import field_violations

from tests.integration.saga.conftest import (
    TERMINAL_SAGA,
    get_order,
    levels,
    place_request,
    stock,
    wait_for_order,
    wait_for_status,
)
from tests.support import wait_until
from tests.system import UNPAID_TIMEOUT_SECONDS, System

pytestmark = pytest.mark.e2e

S = order_pb2


async def shipments(system: System, order_id: str) -> list[fulfillment_pb2.Shipment]:
    reply = await system.fulfillment.ListShipments(
        fulfillment_pb2.ListShipmentsRequest(order_id=order_id), timeout=5
    )
    return list(reply.shipments)


async def invoices(system: System, order_id: str) -> list[billing_pb2.Invoice]:
    reply = await system.billing.ListInvoices(
        billing_pb2.ListInvoicesRequest(order_id=order_id), timeout=5
    )
    return list(reply.invoices)


async def place(system: System, request: order_pb2.PlaceOrderRequest) -> order_pb2.Order:
    reply = await system.order.PlaceOrder(request, timeout=10)
    assert reply.created
    return reply.order


async def test_an_order_is_reserved_shipped_invoiced_then_dispatched_delivered_and_completed(
    system: System,
) -> None:
    sku = system.unique("TEA")
    await system.create_sku(sku, {"HZ-01": 10}, price_minor=1_999, weight_grams=300)

    order = await place(system, place_request([(sku, 2)]))
    assert order.status == S.ORDER_STATUS_RESERVING
    assert order.total.amount_minor == 3_998  # priced from the catalog

    order = await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    assert order.saga.state == S.SAGA_STATE_COMPLETED
    assert [(s.step, s.status) for s in order.saga.steps] == [
        ("inventory.reserve", S.SAGA_STEP_STATUS_SUCCEEDED),
        ("fulfillment.create_shipment", S.SAGA_STEP_STATUS_SUCCEEDED),
        ("billing.issue_invoice", S.SAGA_STEP_STATUS_SUCCEEDED),
    ]
    assert levels(await stock(system, sku)) == (10, 2, 8)
    (shipment,) = await shipments(system, order.id)
    assert shipment.status == fulfillment_pb2.SHIPMENT_STATUS_CREATED
    assert shipment.warehouse == "HZ-01"
    assert shipment.weight_grams == 600
    (invoice,) = await invoices(system, order.id)
    assert invoice.status == billing_pb2.INVOICE_STATUS_ISSUED
    assert invoice.total.amount_minor == order.total.amount_minor

    await system.fulfillment.DispatchShipment(
        fulfillment_pb2.DispatchShipmentRequest(shipment_id=shipment.id, actor="test"),
        timeout=5,
    )
    await wait_for_status(system, order.id, S.ORDER_STATUS_SHIPPED)
    await wait_until(
        lambda: _levels_are(system, sku, (8, 0, 8)), 15, "dispatched units to leave on_hand"
    )

    await system.fulfillment.ConfirmDelivery(
        fulfillment_pb2.ConfirmDeliveryRequest(shipment_id=shipment.id, actor="test"), timeout=5
    )
    order = await wait_for_status(system, order.id, S.ORDER_STATUS_COMPLETED)
    metrics = await asyncio.to_thread(_scrape, system.services["order"].metrics_url)
    for sample in (
        'surge_order_orders_placed_total{channel="web"}',
        'surge_order_gmv_minor_total{currency="CNY"}',
        'surge_order_status_transitions_total{from_status="shipped",to_status="delivered"}',
        'surge_order_saga_step_duration_seconds_count{outcome="succeeded",step="billing.issue_invoice"}',
    ):
        assert sample in metrics, sample
    assert [h.to_status for h in order.history] == [
        S.ORDER_STATUS_RESERVING,
        S.ORDER_STATUS_AWAITING_SHIPMENT,
        S.ORDER_STATUS_SHIPPED,
        S.ORDER_STATUS_DELIVERED,
        S.ORDER_STATUS_COMPLETED,
    ]


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return str(reply.read().decode())


async def _levels_are(system: System, sku: str, expected: tuple[int, int, int]) -> bool:
    return levels(await stock(system, sku)) == expected


@pytest.mark.parametrize(
    ("prefix", "failed_step", "reason"),
    [
        ("FAIL-RESERVE", "inventory.reserve", "stock rejected"),
        ("FAIL-SHIP", "fulfillment.create_shipment", "shipments rejected"),
        ("FAIL-INVOICE", "billing.issue_invoice", "invoice rejected"),
    ],
)
async def test_a_failed_step_compensates_everything_done_and_cancels_the_order(
    system: System, prefix: str, failed_step: str, reason: str
) -> None:
    good, bad = system.unique("OK"), system.unique(prefix)
    await system.create_sku(good, {"HZ-01": 20, "SH-01": 5})
    await system.create_sku(bad, {"HZ-01": 20})
    before = {sku: levels(await stock(system, sku)) for sku in (good, bad)}

    order = await place(system, place_request([(good, 3), (bad, 1)]))
    order = await wait_for_status(system, order.id, S.ORDER_STATUS_CANCELLED)

    assert order.cancel_reason.startswith(reason), order.cancel_reason
    assert order.saga.state == S.SAGA_STATE_COMPENSATED
    failed = [s for s in order.saga.steps if s.status == S.SAGA_STEP_STATUS_FAILED]
    assert [s.step for s in failed] == [failed_step]
    assert {sku: levels(await stock(system, sku)) for sku in (good, bad)} == before
    assert all(
        s.status == fulfillment_pb2.SHIPMENT_STATUS_CANCELLED
        for s in await shipments(system, order.id)
    )
    assert all(
        i.status == billing_pb2.INVOICE_STATUS_VOID for i in await invoices(system, order.id)
    )


async def test_cancelling_an_invoiced_order_voids_the_invoice_cancels_shipments_and_returns_stock(
    system: System,
) -> None:
    sku = system.unique("CUP")
    await system.create_sku(sku, {"HZ-01": 10})
    order = await place(system, place_request([(sku, 4)]))
    await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)

    reply = await system.order.CancelOrder(
        S.CancelOrderRequest(order_id=order.id, reason="customer changed mind", actor="c"),
        timeout=5,
    )
    assert reply.order.status == S.ORDER_STATUS_CANCELLED
    order = await wait_for_order(
        system, order.id, lambda o: o.saga.state == S.SAGA_STATE_COMPENSATED, "compensated"
    )
    assert order.cancel_reason == "customer changed mind"
    assert levels(await stock(system, sku)) == (10, 0, 10)
    assert [s.status for s in await shipments(system, order.id)] == [
        fulfillment_pb2.SHIPMENT_STATUS_CANCELLED
    ]
    assert [i.status for i in await invoices(system, order.id)] == [billing_pb2.INVOICE_STATUS_VOID]
    again = await system.order.CancelOrder(S.CancelOrderRequest(order_id=order.id), timeout=5)
    assert again.order.version == order.version  # idempotent: nothing changed


async def test_cancel_after_dispatch_is_refused_with_failed_precondition(system: System) -> None:
    sku = system.unique("KETTLE")
    await system.create_sku(sku, {"HZ-01": 3})
    order = await place(system, place_request([(sku, 1)]))
    await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    (shipment,) = await shipments(system, order.id)
    await system.fulfillment.DispatchShipment(
        fulfillment_pb2.DispatchShipmentRequest(shipment_id=shipment.id, actor="t"),
        timeout=5,
    )
    await wait_for_status(system, order.id, S.ORDER_STATUS_SHIPPED)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await system.order.CancelOrder(S.CancelOrderRequest(order_id=order.id), timeout=5)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (await get_order(system, order.id)).status == S.ORDER_STATUS_SHIPPED


async def test_a_prepaid_order_waits_for_payment_and_then_ships_and_invoices(
    system: System,
) -> None:
    sku = system.unique("PUER")
    await system.create_sku(sku, {"HZ-01": 5}, price_minor=2_500)
    order = await place(system, place_request([(sku, 2)], terms=common_pb2.PAYMENT_TERMS_PREPAID))
    order = await wait_for_status(system, order.id, S.ORDER_STATUS_PENDING_PAYMENT)
    assert order.saga.state == S.SAGA_STATE_AWAITING_PAYMENT
    assert await shipments(system, order.id) == []

    paid = await system.order.RecordPayment(
        S.RecordPaymentRequest(
            order_id=order.id, amount=order.total, method="alipay", reference="ALI-1"
        ),
        timeout=5,
    )
    assert paid.order.status == S.ORDER_STATUS_PAID
    order = await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    assert len(await shipments(system, order.id)) == 1
    assert len(await invoices(system, order.id)) == 1
    assert levels(await stock(system, sku)) == (5, 2, 3)


async def test_an_unpaid_order_is_cancelled_when_its_hold_expires_and_the_stock_returns(
    system: System,
) -> None:
    sku = system.unique("MOON")
    await system.create_sku(sku, {"HZ-01": 4})
    order = await place(system, place_request([(sku, 3)], terms=common_pb2.PAYMENT_TERMS_PREPAID))
    await wait_for_status(system, order.id, S.ORDER_STATUS_PENDING_PAYMENT)
    assert levels(await stock(system, sku)) == (4, 3, 1)

    order = await wait_for_status(
        system, order.id, S.ORDER_STATUS_CANCELLED, deadline=UNPAID_TIMEOUT_SECONDS + 20
    )
    assert order.cancel_reason == "payment timeout"
    assert levels(await stock(system, sku)) == (4, 0, 4)


async def test_bad_input_is_invalid_argument_with_field_violations_and_nothing_is_stored(
    system: System,
) -> None:
    good, inactive = system.unique("OK"), system.unique("OFF")
    await system.create_sku(good, {"HZ-01": 5})
    await system.create_sku(inactive, {"HZ-01": 5}, active=False)
    customer = system.unique("cust")

    cases: list[tuple[order_pb2.PlaceOrderRequest, set[str]]] = []
    bad_static = place_request([(good, 0), (good, 10_001)], customer_id=customer)
    bad_static.customer.phone = "12345"
    bad_static.shipping_address.postal_code = "31000"
    bad_static.shipping_address.city = ""
    cases.append(
        (
            bad_static,
            {
                "lines[0].quantity",
                "lines[1].quantity",
                "lines[1].sku",
                "customer.phone",
                "shipping_address.postal_code",
                "shipping_address.city",
            },
        )
    )
    cases.append((place_request([], customer_id=customer), {"lines"}))
    cases.append(
        (
            place_request(
                [(good, 1), (system.unique("NOPE"), 1), (inactive, 1)], customer_id=customer
            ),
            {"lines[1].sku", "lines[2].sku"},
        )
    )
    for request, fields in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await system.order.PlaceOrder(request, timeout=5)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(field_violations(refused.value)) == fields

    listed = await system.order.ListOrders(S.ListOrdersRequest(customer_id=customer), timeout=5)
    assert list(listed.orders) == []


async def test_placing_the_same_order_twice_returns_the_first(system: System) -> None:
    sku = system.unique("TWICE")
    await system.create_sku(sku, {"HZ-01": 5})
    request = place_request([(sku, 1)])
    request.external_id = system.unique("TM")
    first = await system.order.PlaceOrder(request, timeout=5)
    again = await system.order.PlaceOrder(request, timeout=5)
    request.client_order_id = system.unique("CO")  # same channel order id, new client key
    third = await system.order.PlaceOrder(request, timeout=5)
    assert first.created
    assert not again.created
    assert not third.created
    assert first.order.id == again.order.id == third.order.id
    await wait_for_status(system, first.order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    assert levels(await stock(system, sku)) == (5, 1, 4)


async def test_every_saga_reaches_a_terminal_state_when_the_order_service_is_killed_mid_saga(
    system: System,
) -> None:
    sku, failing = system.unique("KILL"), system.unique("FAIL-SHIP")
    await system.create_sku(sku, {"HZ-01": 1_000})
    await system.create_sku(failing, {"HZ-01": 100})
    requests = [place_request([(sku, 2)]) for _ in range(40)]
    requests += [place_request([(sku, 1), (failing, 1)]) for _ in range(10)]
    placed = await asyncio.gather(*(system.order.PlaceOrder(r, timeout=10) for r in requests))

    await system.kill_order()
    await system.start_order()

    async def all_terminal() -> bool:
        orders = [await get_order(system, p.order.id) for p in placed]
        return all(o.saga.state in TERMINAL_SAGA for o in orders)

    await wait_until(all_terminal, 90, "every saga to finish after the crash", interval=0.25)
    orders = [await get_order(system, p.order.id) for p in placed]
    completed = [o for o in orders if o.status == S.ORDER_STATUS_AWAITING_SHIPMENT]
    cancelled = [o for o in orders if o.status == S.ORDER_STATUS_CANCELLED]
    assert len(completed) == 40
    assert len(cancelled) == 10
    assert levels(await stock(system, sku)) == (1_000, 80, 920)
    assert levels(await stock(system, failing)) == (100, 0, 100)
    for order in completed:
        assert [i.status for i in await invoices(system, order.id)] == [
            billing_pb2.INVOICE_STATUS_ISSUED
        ]


async def test_replies_delivered_again_have_no_second_effect(system: System) -> None:
    sku = system.unique("DUP")
    await system.create_sku(sku, {"HZ-01": 10})
    order = await place(system, place_request([(sku, 2)]))
    order = await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    (shipment,) = await shipments(system, order.id)
    saga_id = order.saga.id

    await system.publish(
        inventory_pb2.StockReserved(
            saga_id=saga_id,
            order_id=order.id,
            allocations=[inventory_pb2.Allocation(sku=sku, warehouse="HZ-01", quantity=2)],
        )
    )
    await system.publish(
        fulfillment_pb2.ShipmentsCreated(saga_id=saga_id, order_id=order.id, shipments=[shipment])
    )
    await system.publish(billing_pb2.InvoiceIssued(saga_id=saga_id, order_id=order.id))
    await system.publish(
        inventory_pb2.StockRejected(saga_id=saga_id, order_id=order.id, reason="late and wrong")
    )
    await wait_until(system.order_consumers_idle, 30, "the order service to apply every reply")

    after = await get_order(system, order.id)
    assert after.status == S.ORDER_STATUS_AWAITING_SHIPMENT
    assert after.version == order.version
    assert len(after.saga.steps) == 3
    assert len(await shipments(system, order.id)) == 1
    assert len(await invoices(system, order.id)) == 1


async def test_five_hundred_concurrent_orders_for_a_hundred_units_never_oversell(
    system: System,
) -> None:
    sku = system.unique("FLASH")
    await system.create_sku(sku, {"SH-01": 100})
    requests = [place_request([(sku, 1)]) for _ in range(500)]
    limiter = asyncio.Semaphore(50)

    async def place_one(request: order_pb2.PlaceOrderRequest) -> str | grpc.aio.AioRpcError:
        async with limiter:
            try:
                return (await system.order.PlaceOrder(request, timeout=30)).order.id
            except grpc.aio.AioRpcError as refused:
                return refused

    placed = await asyncio.gather(*(place_one(r) for r in requests))
    ids = [oid for oid in placed if isinstance(oid, str)]
    # Once inventory has refused one, later orders may be refused at placement.
    refused_at_placement = [e for e in placed if not isinstance(e, str)]
    for refused in refused_at_placement:
        assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused
        assert refused.details().startswith(f"sold out: {sku} has 0 left")

    async def settled() -> bool:
        listed = await _all_orders_of(system, sku, ids)
        return all(
            o.status in (S.ORDER_STATUS_AWAITING_SHIPMENT, S.ORDER_STATUS_CANCELLED) for o in listed
        )

    await wait_until(settled, 120, "every flash-sale order to settle", interval=0.5)
    listed = await _all_orders_of(system, sku, ids)
    won = [o for o in listed if o.status == S.ORDER_STATUS_AWAITING_SHIPMENT]
    lost = [o for o in listed if o.status == S.ORDER_STATUS_CANCELLED]
    assert (len(won), len(lost) + len(refused_at_placement)) == (100, 400)
    assert all(o.cancel_reason.startswith("stock rejected") for o in lost)
    assert levels(await stock(system, sku)) == (100, 100, 0)


async def test_once_a_sku_sells_out_new_orders_for_it_are_refused_at_once(
    system: System,
) -> None:
    sku, other = system.unique("SOLDOUT"), system.unique("PLENTY")
    await system.create_sku(sku, {"SH-01": 1})
    await system.create_sku(other, {"SH-01": 10})
    winner = await system.order.PlaceOrder(place_request([(sku, 1)]), timeout=30)
    await wait_for_status(system, winner.order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    loser = await system.order.PlaceOrder(place_request([(sku, 1)]), timeout=30)
    await wait_for_status(system, loser.order.id, S.ORDER_STATUS_CANCELLED)

    late = place_request([(sku, 1), (other, 1)])
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await system.order.PlaceOrder(late, timeout=30)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == f"sold out: {sku} has 0 left; try again later"
    # Nothing was stored or reserved for it, and the refusal was counted.
    listed = await system.order.ListOrders(
        order_pb2.ListOrdersRequest(customer_id=late.customer.id), timeout=10
    )
    assert list(listed.orders) == []
    assert levels(await stock(system, other)) == (10, 0, 10)
    metrics = await asyncio.to_thread(_scrape, system.services["order"].metrics_url)
    refusals = [
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("surge_order_sold_out_refusals_total ")
    ]
    assert refusals
    assert refusals[0] >= 1

    # A repeat of the order that won still returns it.
    again = await system.order.PlaceOrder(
        place_request([(sku, 1)], client_order_id=winner.order.client_order_id), timeout=30
    )
    assert (again.order.id, again.created) == (winner.order.id, False)


async def _all_orders_of(system: System, sku: str, ids: list[str]) -> list[order_pb2.Order]:
    wanted, found, token = set(ids), [], ""
    while True:
        page = await system.order.ListOrders(
            S.ListOrdersRequest(page_size=200, page_token=token), timeout=10
        )
        found += [o for o in page.orders if o.id in wanted]
        token = page.next_page_token
        if not token or len(found) == len(wanted):
            return found
