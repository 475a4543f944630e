"""`/v1/promotions`, tiers, member prices and purchase limits at the edge, and the per-line
price breakdown in the order JSON, against the fake order service."""

from __future__ import annotations

from typing import Any

import pytest
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2, promotions_pb2

from tests.unit.gateway.conftest import Gateway, idem, order_body
from tests.unit.gateway.promotions_fakes import SEEDED

COUPON = {"name": "10% off", "kind": "percent_coupon", "code": "ten", "percent": 10}


def admin(gw: Gateway) -> dict[str, str]:
    return gw.auth("admin", sub="boss")


def field_errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"]: e["detail"] for e in response.json()["errors"]}


async def test_creating_a_coupon_is_idempotent_and_audited_with_the_admin(gw: Gateway) -> None:
    headers = {**admin(gw), **idem()}
    first = await gw.client.post("/v1/promotions", json=COUPON, headers=headers)
    again = await gw.client.post("/v1/promotions", json=COUPON, headers=headers)
    assert first.status_code == 201
    assert first.json()["code"] == "TEN"
    assert first.headers["Location"] == f"/v1/promotions/{first.json()['id']}"
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert gw.down.promotions.create_calls == 1
    assert gw.down.promotions.actors == ["boss"]


async def test_creating_without_an_idempotency_key_is_refused(gw: Gateway) -> None:
    response = await gw.client.post("/v1/promotions", json=COUPON, headers=admin(gw))
    assert response.status_code == 422
    assert gw.down.promotions.create_calls == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"percent": 150}, "percent"),
        ({"kind": "fixed_coupon", "percent": 0, "amount_minor": -5}, "amount_minor"),
        (
            {"starts_at": "2026-11-12T00:00:00Z", "ends_at": "2026-11-11T00:00:00Z"},
            "ends_at",
        ),
        (
            {
                "kind": "gift",
                "code": None,
                "percent": 0,
                "buy_sku": "TEA-1",
                "buy_quantity": 2,
                "gift_sku": "GHOST-1",
                "gift_quantity": 1,
            },
            "gift_sku",
        ),
    ],
)
async def test_a_bad_promotion_is_a_422_naming_the_field(
    gw: Gateway, changes: dict[str, Any], field: str
) -> None:
    response = await gw.client.post(
        "/v1/promotions", json={**COUPON, **changes}, headers={**admin(gw), **idem()}
    )
    assert field in field_errors(response)


@pytest.mark.parametrize(
    "body",
    [
        {**COUPON, "kind": "bogo"},
        {**COUPON, "discount": 5},
        {**COUPON, "percent": 2**40},
        {**COUPON, "code": "no spaces please"},
    ],
)
async def test_malformed_promotions_never_reach_the_order_service(
    gw: Gateway, body: dict[str, Any]
) -> None:
    response = await gw.client.post("/v1/promotions", json=body, headers={**admin(gw), **idem()})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert gw.down.promotions.create_calls == 0


async def test_patch_changes_only_the_given_fields_and_deactivate_switches_off(
    gw: Gateway,
) -> None:
    path = f"/v1/promotions/{SEEDED}"
    patched = await gw.client.patch(
        path, json={"usage_limit": 500, "ends_at": "2030-01-01T00:00:00Z"}, headers=admin(gw)
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["usage_limit"], body["percent"], body["code"]) == (500, 10, "D11")
    assert body["ends_at"].startswith("2030-01-01")
    cleared = await gw.client.patch(path, json={"ends_at": None}, headers=admin(gw))
    assert cleared.json()["ends_at"] is None
    off = await gw.client.post(f"{path}/deactivate", headers=admin(gw))
    assert off.json()["active"] is False
    active = await gw.client.get("/v1/promotions?active_only=true", headers=admin(gw))
    assert active.json()["items"] == []


async def test_an_unknown_promotion_is_404(gw: Gateway) -> None:
    response = await gw.client.get("/v1/promotions/nope", headers=admin(gw))
    assert response.status_code == 404


async def test_tiers_member_prices_and_purchase_limits_round_trip(gw: Gateway) -> None:
    tier = await gw.client.put("/v1/customers/alice/tier", json={"tier": "gold"}, headers=admin(gw))
    assert tier.json() == {"customer_id": "alice", "tier": "gold"}
    price = await gw.client.put(
        "/v1/member-prices/gold/TEA-1", json={"unit_price_minor": 900}, headers=admin(gw)
    )
    assert price.json() == {"tier": "gold", "sku": "TEA-1", "unit_price_minor": 900}
    listed = await gw.client.get("/v1/member-prices?tier=gold", headers=admin(gw))
    assert [m["sku"] for m in listed.json()["items"]] == ["TEA-1"]
    limit = await gw.client.put(
        "/v1/purchase-limits/CUP-1", json={"max_quantity": 2}, headers=admin(gw)
    )
    assert limit.json() == {"sku": "CUP-1", "max_quantity": 2}
    removed = await gw.client.delete("/v1/purchase-limits/TEA-1", headers=admin(gw))
    assert removed.status_code == 204
    limits = await gw.client.get("/v1/purchase-limits", headers=admin(gw))
    assert limits.json()["items"] == [{"sku": "CUP-1", "max_quantity": 2}]
    bad = await gw.client.put(
        "/v1/purchase-limits/CUP-1", json={"max_quantity": 0}, headers=admin(gw)
    )
    assert "max_quantity" in field_errors(bad)


def _cny(amount: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount, currency="CNY")


async def test_the_order_json_carries_the_per_line_breakdown(gw: Gateway) -> None:
    placed = await gw.client.post(
        "/v1/orders",
        json=order_body(coupon_code="D11"),
        headers={**gw.auth("customer"), **idem()},
    )
    order_id = placed.json()["id"]
    stored: order_pb2.Order = gw.orders.orders[order_id]
    stored.line_pricing.append(
        promotions_pb2.OrderLinePricing(
            sku="TEA-1",
            quantity=2,
            list_unit_price=_cny(1000),
            list_amount=_cny(2000),
            adjustments=[
                promotions_pb2.PriceAdjustment(
                    kind="percent_coupon", promotion_id=SEEDED, code="D11", amount=_cny(200)
                )
            ],
            final_amount=_cny(1800),
        )
    )
    response = await gw.client.get(f"/v1/orders/{order_id}", headers=gw.auth("customer"))
    (line,) = response.json()["pricing"]
    assert line["final_amount"] == {"amount_minor": 1800, "currency": "CNY"}
    assert line["adjustments"] == [
        {
            "kind": "percent_coupon",
            "promotion_id": SEEDED,
            "code": "D11",
            "amount": {"amount_minor": 200, "currency": "CNY"},
        }
    ]
