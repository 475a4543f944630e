"""The order lifecycle over real HTTP through the gateway and all four services."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.e2e.conftest import GatewayProcess
from tests.e2e.gateway.flows import key, new_sku, order_body, wait_for_status

pytestmark = pytest.mark.e2e


async def test_place_pay_ship_deliver_completes_the_order(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    sku = await new_sku(gateway)
    customer = gateway.auth("customer", sub=gateway.system.unique("cust"))
    operator = gateway.auth("operator")

    placed = await http.post("/v1/orders", json=order_body(sku, 2), headers={**customer, **key()})
    assert placed.status_code == 202, placed.text
    order = placed.json()
    assert placed.headers["location"] == f"/v1/orders/{order['id']}"
    assert order["lines"][0]["unit_price"] == {"amount_minor": 1000, "currency": "CNY"}
    assert order["total"]["amount_minor"] == 2000  # priced from the catalog

    await wait_for_status(http, order["id"], customer, {"pending_payment"})
    paid = await http.post(
        f"/v1/orders/{order['id']}/payments",
        json={"amount": order["total"], "method": "alipay", "reference": f"ALI-{order['id']}"},
        headers={**customer, **key()},
    )
    assert paid.status_code == 200, paid.text

    ready = await wait_for_status(http, order["id"], customer, {"awaiting_shipment"})
    assert ready["shipments"], ready
    assert ready["invoice"]["status"] in {"issued", "paid"}
    assert ready["saga"]["state"] == "completed"

    for shipment in ready["shipments"]:
        dispatched = await http.post(
            f"/v1/shipments/{shipment['id']}/dispatch", json={}, headers=operator
        )
        assert dispatched.status_code == 200, dispatched.text
        assert dispatched.json()["status"] == "dispatched"
    await wait_for_status(http, order["id"], customer, {"shipped", "delivered", "completed"})
    for shipment in ready["shipments"]:
        delivered = await http.post(f"/v1/shipments/{shipment['id']}/deliver", headers=operator)
        assert delivered.status_code == 200, delivered.text
    done = await wait_for_status(http, order["id"], customer, {"delivered", "completed"})
    walked = [change["to_status"] for change in done["history"]]
    assert "pending_payment" in walked
    assert "shipped" in walked

    invoice = await http.get(f"/v1/invoices/{ready['invoice']['id']}", headers=customer)
    assert invoice.status_code == 200
    assert invoice.json()["order_id"] == order["id"]

    # The event stream replays the history and, the order being finished, ends by itself.
    if done["status"] == "completed":
        events = await http.get(f"/v1/orders/{order['id']}/events", headers=customer)
        lines = [ln for ln in events.text.splitlines() if ln.startswith("data: ")]
        assert [json.loads(ln[6:])["to_status"] for ln in lines] == walked


async def test_cancel_releases_the_stock(gateway: GatewayProcess, http: httpx.AsyncClient) -> None:
    sku = await new_sku(gateway, units=10)
    customer = gateway.auth("customer", sub=gateway.system.unique("cust"))
    operator = gateway.auth("operator")
    placed = await http.post("/v1/orders", json=order_body(sku, 3), headers={**customer, **key()})
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["id"]
    await wait_for_status(http, order_id, customer, {"pending_payment"})
    held = (await http.get(f"/v1/inventory/stock/{sku}", headers=operator)).json()
    assert held["reserved"] == 3

    cancelled = await http.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"}, headers=customer
    )
    assert cancelled.status_code == 200, cancelled.text
    final = await wait_for_status(http, order_id, customer, {"cancelled"})
    assert final["cancel_reason"]

    async def released() -> bool:
        stock = (await http.get(f"/v1/inventory/stock/{sku}", headers=operator)).json()
        return bool(stock["reserved"] == 0 and stock["available"] == 10)

    from tests.support import wait_until

    await wait_until(released, 30, "stock released")


async def test_a_customer_cannot_see_another_customers_order(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    sku = await new_sku(gateway)
    alice = gateway.auth("customer", sub=gateway.system.unique("alice"))
    bob = gateway.auth("customer", sub=gateway.system.unique("bob"))
    placed = await http.post("/v1/orders", json=order_body(sku), headers={**alice, **key()})
    order_id = placed.json()["id"]
    assert (await http.get(f"/v1/orders/{order_id}", headers=bob)).status_code == 404
    assert (await http.get(f"/v1/orders/{order_id}", headers=alice)).status_code == 200
    listed = await http.get("/v1/orders", headers=bob)
    assert listed.status_code == 200
    assert order_id not in {o["id"] for o in listed.json()["items"]}


async def test_bad_orders_are_422_with_per_field_errors_from_the_order_service(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    customer = gateway.auth("customer", sub=gateway.system.unique("cust"))
    response = await http.post(
        "/v1/orders", json=order_body("NO-SUCH-SKU"), headers={**customer, **key()}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any("lines" in e["field"] for e in response.json()["errors"])


async def test_unknown_order_is_404_problem(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    response = await http.get(
        "/v1/orders/01930000-0000-7000-8000-000000000000", headers=gateway.auth("operator")
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_one_hundred_concurrent_requests_with_one_key_make_one_order(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    sku = await new_sku(gateway)
    sub = gateway.system.unique("cust")
    customer = gateway.auth("customer", sub=sub)
    headers = {**customer, **key()}
    body = order_body(sku)
    responses = await asyncio.gather(
        *(http.post("/v1/orders", json=body, headers=headers) for _ in range(100))
    )
    assert {r.status_code for r in responses} == {202}, {r.status_code for r in responses}
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 99
    listed = await http.get("/v1/orders", headers=customer)
    assert len(listed.json()["items"]) == 1


async def test_readyz_reports_every_service_serving(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "order": True,
        "inventory": True,
        "fulfillment": True,
        "billing": True,
        "database": True,
    }
    metrics = (await http.get("/metrics")).text
    assert "surge_gateway_http_requests_total" in metrics
