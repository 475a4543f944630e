"""Every role against every route: the expected status, and customers see only their own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2
from surge_gateway.channels.signature import sign

from tests.unit.gateway.conftest import CARRIER_KEY, CHANNEL_KEYS, Gateway, MakeGateway, idem
from tests.unit.gateway.conftest import order_body as base_order_body

ROLES = ("anonymous", "customer", "operator", "finance", "admin", "channel", "carrier")
ORDER = "0193-0001"  # the first order the fake places: alice's, set up below

WEB_PAYLOAD = json.dumps(
    {
        "order_no": "W-1",
        "customer": {"user_id": "u1", "name": "Li Lei", "mobile": "13800000000"},
        "ship_to": {
            "province": "Zhejiang",
            "city": "Hangzhou",
            "district": "Xihu",
            "street": "1 Wensan Rd",
            "zip": "310000",
        },
        "items": [{"sku": "TEA-1", "qty": 1}],
    }
).encode()

# (method, path template, body, ok status, roles allowed)
ROUTES: list[tuple[str, str, Any, int, set[str]]] = [
    ("POST", "/v1/orders", "order", 202, {"customer", "operator", "admin"}),
    ("GET", "/v1/orders", None, 200, {"customer", "operator", "finance", "admin"}),
    ("GET", "/v1/orders/{order_id}", None, 200, {"customer", "operator", "finance", "admin"}),
    (
        "POST",
        "/v1/orders/{order_id}/cancel",
        {"reason": "changed my mind"},
        200,
        {"customer", "operator", "admin"},
    ),
    (
        "POST",
        "/v1/orders/{order_id}/payments",
        {
            "amount": {"amount_minor": 2000, "currency": "CNY"},
            "method": "alipay",
            "reference": "ALI-1",
        },
        200,
        {"customer", "finance", "admin"},
    ),
    ("POST", "/v1/orders/{order_id}/saga/retry", None, 202, {"operator", "admin"}),
    (
        "GET",
        "/v1/orders/{order_id}/events",
        None,
        200,
        {"customer", "operator", "finance", "admin"},
    ),
    ("GET", "/v1/inventory/skus/{sku}", None, 200, {"customer", "operator", "finance", "admin"}),
    (
        "POST",
        "/v1/inventory/skus",
        {"sku": "TEA-2", "name": "Tea", "unit_price": 1000, "weight_grams": 100, "category": "tea"},
        201,
        {"operator", "admin"},
    ),
    ("GET", "/v1/inventory/stock/{sku}", None, 200, {"operator", "finance", "admin"}),
    (
        "POST",
        "/v1/inventory/adjustments",
        {"sku": "TEA-1", "warehouse": "HZ", "quantity": 5, "reason": "received"},
        200,
        {"operator", "admin"},
    ),
    ("GET", "/v1/warehouses", None, 200, {"operator", "finance", "admin"}),
    (
        "GET",
        "/v1/shipments/{shipment_id}",
        None,
        200,
        {"customer", "operator", "finance", "admin", "carrier"},
    ),
    ("POST", "/v1/shipments/{shipment_id}/dispatch", None, 200, {"operator", "admin", "carrier"}),
    ("POST", "/v1/shipments/{shipment_id}/deliver", None, 200, {"operator", "admin", "carrier"}),
    ("GET", "/v1/invoices/{invoice_id}", None, 200, {"customer", "finance", "admin"}),
    ("GET", "/v1/invoices", None, 200, {"finance", "admin"}),
    ("POST", "/v1/channels/{channel}/orders", "webhook", 202, {"channel"}),
    ("GET", "/v1/admin/sagas", None, 200, {"admin"}),
    ("POST", "/v1/admin/sagas/{order_id}/retry", None, 202, {"admin"}),
    ("POST", "/v1/admin/sagas/{order_id}/compensate", None, 202, {"admin"}),
    # Dead letters #1..3 of inventory exist (fakes.py); a DELETE acts on #2, the rest on #1.
    ("GET", "/v1/admin/services/{service}/dead-letters", None, 200, {"admin"}),
    ("GET", "/v1/admin/services/{service}/dead-letters/{sequence}", None, 200, {"admin"}),
    ("DELETE", "/v1/admin/services/{service}/dead-letters/{sequence}", None, 200, {"admin"}),
    (
        "POST",
        "/v1/admin/services/{service}/dead-letters/redrive",
        {"sequences": [3]},
        200,
        {"admin"},
    ),
    ("POST", "/v1/admin/services/{service}/dead-letters/{sequence}/redrive", None, 200, {"admin"}),
    ("POST", "/v1/admin/services/{service}/dead-letters/purge", {"all": True}, 200, {"admin"}),
    ("GET", "/v1/admin/backlog", None, 200, {"admin"}),
    ("GET", "/v1/admin/audit", None, 200, {"admin"}),
    ("GET", "/v1/rules", None, 200, {"admin"}),
    (
        "POST",
        "/v1/rules",
        {"name": "big_tea", "condition": "order.item_count > 10", "action": "hold"},
        201,
        {"admin"},
    ),
    ("GET", "/v1/rules/{name}", None, 200, {"admin"}),
    (
        "PUT",
        "/v1/rules/{name}",
        {"condition": "recent.phone_orders_10m > 5", "action": "require_review"},
        200,
        {"admin"},
    ),
    ("POST", "/v1/rules/{name}/enable", None, 200, {"admin"}),
    ("POST", "/v1/rules/{name}/disable", None, 200, {"admin"}),
    ("GET", "/v1/reviews", None, 200, {"operator", "admin"}),
    ("POST", "/v1/reviews/{order_id}/approve", {"note": "ok"}, 200, {"operator", "admin"}),
    ("POST", "/v1/reviews/{order_id}/reject", {"note": "fraud"}, 200, {"operator", "admin"}),
    (
        "POST",
        "/v1/promotions",
        {"name": "10% off", "kind": "percent_coupon", "code": "TEN", "percent": 10},
        201,
        {"admin"},
    ),
    ("GET", "/v1/promotions", None, 200, {"admin"}),
    ("GET", "/v1/promotions/{promotion_id}", None, 200, {"admin"}),
    ("PATCH", "/v1/promotions/{promotion_id}", {"usage_limit": 500}, 200, {"admin"}),
    ("POST", "/v1/promotions/{promotion_id}/deactivate", None, 200, {"admin"}),
    ("PUT", "/v1/customers/{customer_id}/tier", {"tier": "gold"}, 200, {"admin"}),
    ("GET", "/v1/member-prices", None, 200, {"admin"}),
    ("PUT", "/v1/member-prices/{tier}/{sku}", {"unit_price_minor": 900}, 200, {"admin"}),
    ("DELETE", "/v1/member-prices/{tier}/{sku}", None, 204, {"admin"}),
    ("GET", "/v1/purchase-limits", None, 200, {"admin"}),
    ("PUT", "/v1/purchase-limits/{sku}", {"max_quantity": 2}, 200, {"admin"}),
    ("DELETE", "/v1/purchase-limits/{sku}", None, 204, {"admin"}),
    (
        "POST",
        "/v1/orders/{order_id}/returns",
        {"reason": "broken", "lines": [{"sku": "TEA-1", "quantity": 1}]},
        201,
        {"customer", "operator", "admin"},
    ),
    (
        "GET",
        "/v1/orders/{order_id}/returns",
        None,
        200,
        {"customer", "operator", "finance", "admin"},
    ),
    ("GET", "/v1/returns/{return_id}", None, 200, {"customer", "operator", "finance", "admin"}),
    ("POST", "/v1/returns/{return_id}/approve", None, 200, {"operator", "admin"}),
    ("POST", "/v1/returns/{return_id}/reject", {"note": "used"}, 200, {"operator", "admin"}),
    (
        "POST",
        "/v1/returns/{return_id}/receive",
        {"lines": [{"sku": "TEA-1", "resellable_quantity": 1, "damaged_quantity": 0}]},
        200,
        {"operator", "admin"},
    ),
    ("GET", "/v1/orders/{order_id}/balance", None, 200, {"customer", "finance", "admin"}),
    ("GET", "/v1/credit-notes/{credit_note_id}", None, 200, {"finance", "admin"}),
    ("GET", "/v1/reports/reconciliation", None, 200, {"finance", "admin"}),
    ("GET", "/v1/reports/aging", None, 200, {"finance", "admin"}),
    ("GET", "/v1/reports/sales", None, 200, {"finance", "admin"}),
    ("GET", "/v1/exports/orders", None, 200, {"operator", "finance", "admin"}),
    ("GET", "/v1/exports/invoices", None, 200, {"finance", "admin"}),
]
PUBLIC = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/openapi.json")]


def _credentials(gw: Gateway, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "channel":
        return {"X-Api-Key": CHANNEL_KEYS["web"]}
    if role == "carrier":
        return {"X-Api-Key": CARRIER_KEY}
    return gw.auth(role, sub="alice")


async def _seed(gw: Gateway) -> None:
    gw.down.billing.customer_id = "alice"
    await gw.orders.PlaceOrder(
        order_pb2.PlaceOrderRequest(
            client_order_id="seed",
            channel="web",
            customer=common_pb2.Customer(id="alice", name="Alice", phone="+8613800000001"),
            lines=[order_pb2.PlaceOrderLine(sku="TEA-1", quantity=2)],
        ),
        timeout=1,
    )


async def _call(gw: Gateway, role: str, method: str, template: str, body: Any) -> int:
    path = template.format(
        order_id=ORDER,
        sku="TEA-1",
        shipment_id="ship-1",
        invoice_id="inv-1",
        channel="web",
        service="inventory",
        sequence=2 if method == "DELETE" else 1,
        name="velocity",
        promotion_id="promo-1",
        customer_id="alice",
        tier="gold",
        return_id="ret-1",
        credit_note_id="cn-1",
    )
    headers = {**_credentials(gw, role), **idem()}
    content: bytes | None = None
    if body == "order":
        content = json.dumps(
            base_order_body(customer={"id": "alice", "name": "Alice", "phone": "+8613800000001"})
        ).encode()
    elif body == "webhook":
        content = WEB_PAYLOAD
        headers["X-Surge-Signature"] = sign(CHANNEL_KEYS["web"], content)
    elif body is not None:
        content = json.dumps(body).encode()
    if content is not None:
        headers["Content-Type"] = "application/json"
    response = await gw.client.request(method, path, content=content, headers=headers)
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
async def test_every_route_admits_exactly_its_roles(make_gateway: MakeGateway, role: str) -> None:
    async with make_gateway(sse_max_seconds=0.05, sse_poll_seconds=0.01) as gw:
        await _seed(gw)
        for method, template, body, ok, allowed in ROUTES:
            expected = ok if role in allowed else 401 if role == "anonymous" else 403
            status = await _call(gw, role, method, template, body)
            assert status == expected, f"{role} {method} {template}: {status} != {expected}"
        for method, path in PUBLIC:
            response = await gw.client.request(method, path, headers=_credentials(gw, role))
            assert response.status_code == 200, f"{role} {method} {path}"


async def test_the_matrix_covers_every_route(gw: Gateway) -> None:
    spec = (await gw.client.get("/openapi.json")).json()
    declared = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    covered = {(m, p) for m, p, *_ in ROUTES} | set(PUBLIC)
    assert len(declared) == len(ROUTES) + 2
    assert declared <= covered, declared - covered


CUSTOMER_PROBES = [
    ("GET", f"/v1/orders/{ORDER}", None),
    ("POST", f"/v1/orders/{ORDER}/cancel", None),
    (
        "POST",
        f"/v1/orders/{ORDER}/payments",
        {"amount": {"amount_minor": 2000, "currency": "CNY"}, "method": "alipay", "reference": "x"},
    ),
    ("GET", f"/v1/orders/{ORDER}/events", None),
    ("GET", "/v1/shipments/ship-1", None),
    ("GET", "/v1/invoices/inv-1", None),
    (
        "POST",
        f"/v1/orders/{ORDER}/returns",
        {"reason": "broken", "lines": [{"sku": "TEA-1", "quantity": 1}]},
    ),
    ("GET", f"/v1/orders/{ORDER}/returns", None),
    ("GET", "/v1/returns/ret-1", None),
    ("GET", f"/v1/orders/{ORDER}/balance", None),
]


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_PROBES)
async def test_another_customers_things_are_not_found(
    gw: Gateway, method: str, path: str, body: Any
) -> None:
    await _seed(gw)
    response = await gw.client.request(
        method, path, json=body, headers={**gw.auth("customer", sub="bob"), **idem()}
    )
    assert response.status_code == 404
    assert gw.orders.orders[ORDER].status != order_pb2.ORDER_STATUS_CANCELLED


async def test_a_customer_lists_only_their_own_orders(gw: Gateway) -> None:
    await _seed(gw)
    bob = gw.auth("customer", sub="bob")
    mine = await gw.client.get("/v1/orders", headers=bob)
    assert mine.status_code == 200
    assert mine.json()["items"] == []
    theirs = await gw.client.get("/v1/orders", params={"customer_id": "alice"}, headers=bob)
    assert theirs.status_code == 403
    alice = await gw.client.get("/v1/orders", headers=gw.auth("customer", sub="alice"))
    assert [o["id"] for o in alice.json()["items"]] == [ORDER]


async def test_a_customer_cannot_order_for_someone_else(gw: Gateway) -> None:
    body = base_order_body(customer={"id": "alice", "name": "A", "phone": "+8613800000001"})
    response = await gw.client.post(
        "/v1/orders", json=body, headers={**gw.auth("customer", sub="bob"), **idem()}
    )
    assert response.status_code == 403
    assert gw.orders.place_calls == 0


async def test_a_customer_order_belongs_to_the_token_subject(gw: Gateway) -> None:
    response = await gw.client.post(
        "/v1/orders", json=base_order_body(), headers={**gw.auth("customer", sub="bob"), **idem()}
    )
    assert response.status_code == 202
    assert response.json()["customer"]["id"] == "bob"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt",
        "Basic YWxpY2U6c2VjcmV0",
    ],
)
async def test_malformed_credentials_are_401(gw: Gateway, header: str) -> None:
    response = await gw.client.get("/v1/orders", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_expired_or_foreign_tokens_are_401(gw: Gateway) -> None:
    from surge_gateway.keys import generate_keypair, make_token

    expired = make_token(gw.private_key, subject="a", roles=["admin"], ttl_seconds=-120)
    foreign = make_token(generate_keypair()[0], subject="a", roles=["admin"])
    wrong_audience = make_token(gw.private_key, subject="a", roles=["admin"], audience="x")
    no_role = make_token(gw.private_key, subject="a", roles=["superuser"])
    for token in (expired, foreign, wrong_audience, no_role):
        response = await gw.client.get("/v1/orders", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_an_unknown_api_key_is_401(gw: Gateway) -> None:
    response = await gw.client.get("/v1/shipments/s-1", headers={"X-Api-Key": "sk_guess"})
    assert response.status_code == 401


async def test_verified_tokens_are_cached_only_until_they_expire(gw: Gateway) -> None:
    import time

    from surge_gateway.auth import Principal, Role
    from surge_gateway.problems import ProblemError

    auth = gw.app.state.authenticator
    remembered = Principal("cached", frozenset({Role.ADMIN}))
    auth._token_cache["opaque"] = (time.time() + 60, remembered)
    assert auth.verify_token("opaque") is remembered
    auth._token_cache["opaque"] = (time.time() - 1, remembered)
    with pytest.raises(ProblemError) as refused:
        auth.verify_token("opaque")  # expired entry: verified again, and it is no JWT
    assert refused.value.status == 401
