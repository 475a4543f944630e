"""Pricing over real HTTP: an admin sets up a coupon, a member price and a purchase limit; a
customer orders with the coupon and the order's per-line breakdown sums to the fen.

Only promotions that cannot touch other tests' orders are created here (a coupon with its own
code, a tier of a customer of its own, a limit on a SKU of its own): the system is shared.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import GatewayProcess
from tests.e2e.gateway.flows import key, order_body, wait_for_status
from tests.support import wait_until

pytestmark = pytest.mark.e2e


async def test_an_order_with_a_coupon_and_a_member_price_is_priced_line_by_line(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    system = gateway.system
    admin = gateway.auth("admin")
    tea, cup = system.unique("TEA"), system.unique("CUP")
    await system.create_sku(tea, {"HZ-01": 20}, price_minor=1999)
    await system.create_sku(cup, {"HZ-01": 20}, price_minor=333)
    customer_id = system.unique("gold")
    customer = gateway.auth("customer", sub=customer_id)
    code = system.unique("D11").replace("-", "")

    created = await http.post(
        "/v1/promotions",
        json={
            "name": "Double 11",
            "kind": "percent_coupon",
            "code": code,
            "percent": 15,
            "usage_limit": 1,
        },
        headers={**admin, **key()},
    )
    assert created.status_code == 201, created.text
    coupon = created.json()
    tier = await http.put(f"/v1/customers/{customer_id}/tier", json={"tier": "gold"}, headers=admin)
    assert tier.status_code == 200, tier.text
    member = await http.put(
        f"/v1/member-prices/gold/{tea}", json={"unit_price_minor": 1799}, headers=admin
    )
    assert member.status_code == 200, member.text
    limit = await http.put(f"/v1/purchase-limits/{cup}", json={"max_quantity": 3}, headers=admin)
    assert limit.status_code == 200, limit.text

    body = order_body(tea, 3, coupon_code=code.lower())
    body["lines"].append({"sku": cup, "quantity": 2})
    placed = await http.post("/v1/orders", json=body, headers={**customer, **key()})
    assert placed.status_code == 202, placed.text
    order = placed.json()
    after_member = 3 * 1799 + 2 * 333
    off = after_member * 15 // 100
    assert order["subtotal"]["amount_minor"] == 3 * 1999 + 2 * 333
    assert order["total"]["amount_minor"] == after_member - off
    assert order["coupon_code"] == code.upper()
    pricing = order["pricing"]
    assert sum(p["final_amount"]["amount_minor"] for p in pricing) == order["total"]["amount_minor"]
    assert [line["line_total"] for line in order["lines"]] == [p["final_amount"] for p in pricing]
    tea_line = pricing[0]
    assert [(a["kind"], a["code"]) for a in tea_line["adjustments"]] == [
        ("member_price", "gold"),
        ("percent_coupon", code.upper()),
    ]
    coupon_total = sum(
        a["amount"]["amount_minor"]
        for p in pricing
        for a in p["adjustments"]
        if a["promotion_id"] == coupon["id"]
    )
    assert coupon_total == off

    # The coupon's only use is taken; the purchase limit counts across orders.
    other = gateway.auth("customer", sub=system.unique("cust"))
    refused = await http.post(
        "/v1/orders", json=order_body(tea, 1, coupon_code=code), headers={**other, **key()}
    )
    assert refused.status_code == 422, refused.text
    assert {e["field"] for e in refused.json()["errors"]} == {"coupon_code"}
    over = await http.post("/v1/orders", json=order_body(cup, 2), headers={**customer, **key()})
    assert over.status_code == 422, over.text
    assert {e["field"] for e in over.json()["errors"]} == {"lines[0].quantity"}

    # The breakdown is stored: a read returns the same, and cancelling gives the coupon back.
    read = await wait_for_status(http, order["id"], customer, {"pending_payment"})
    assert read["pricing"] == pricing
    cancelled = await http.post(
        f"/v1/orders/{order['id']}/cancel", json={"reason": "test"}, headers=customer
    )
    assert cancelled.status_code == 200, cancelled.text

    async def returned() -> bool:
        current = await http.get(f"/v1/promotions/{coupon['id']}", headers=admin)
        return bool(current.json()["used"] == 0)

    await wait_until(returned, 30, "the cancelled order's coupon use to be returned")
