"""The review queue over real HTTP: an admin adds a rule, held orders wait in pending_review with
their stock reserved, an operator approves (the saga goes on) or rejects (cancelled, released)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import GatewayProcess
from tests.e2e.gateway.flows import key, new_sku, order_body, wait_for_status

pytestmark = pytest.mark.e2e


async def hold_rule(http: httpx.AsyncClient, gateway: GatewayProcess, sku: str) -> str:
    name = f"hold_{sku.lower().replace('-', '_')}"
    response = await http.post(
        "/v1/rules",
        json={
            "name": name,
            "condition": f'"{sku}" in order.skus',
            "action": "require_review",
            "params": {"tag": "manual_check"},
            "priority": 5,
        },
        headers={**gateway.auth("admin", sub="ops-lead"), **key()},
    )
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 1
    return name


async def queued(http: httpx.AsyncClient, operator: dict[str, str], order_id: str) -> Any:
    """The order's entry in the pending queue, following the cursor page by page."""
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await http.get("/v1/reviews", params=params, headers=operator)
        assert page.status_code == 200, page.text
        for item in page.json()["items"]:
            if item["order_id"] == order_id:
                return item
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return None


async def test_a_held_order_is_approved_and_goes_on_or_rejected_and_released(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    sku = await new_sku(gateway, units=10)
    await hold_rule(http, gateway, sku)
    customer = gateway.auth("customer", sub=gateway.system.unique("cust"))
    operator = gateway.auth("operator", sub="olga")

    ids = []
    for _ in range(2):
        body = order_body(sku, 2, payment_terms="on_account")
        placed = await http.post("/v1/orders", json=body, headers={**customer, **key()})
        assert placed.status_code == 202, placed.text
        assert "manual_check" in placed.json()["tags"]
        ids.append(placed.json()["id"])
    for order_id in ids:
        held = await wait_for_status(http, order_id, customer, {"pending_review"})
        assert held["saga"]["state"] == "awaiting_review"
    stock = await http.get(f"/v1/inventory/stock/{sku}", headers=operator)
    assert (stock.json()["reserved"], stock.json()["available"]) == (4, 6)

    entry = await queued(http, operator, ids[0])
    assert entry is not None
    assert entry["reasons"] == [f"hold_{sku.lower().replace('-', '_')}"]
    assert entry["order_status"] == "pending_review"

    approved = await http.post(
        f"/v1/reviews/{ids[0]}/approve", json={"note": "regular"}, headers=operator
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["decided_by"] == "user:olga"
    await wait_for_status(http, ids[0], customer, {"awaiting_shipment"})

    rejected = await http.post(
        f"/v1/reviews/{ids[1]}/reject", json={"note": "reseller"}, headers=operator
    )
    assert rejected.status_code == 200, rejected.text
    cancelled = await wait_for_status(http, ids[1], customer, {"cancelled"})
    assert cancelled["cancel_reason"] == "review rejected: reseller"
    again = await http.post(f"/v1/reviews/{ids[1]}/approve", headers=operator)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert await queued(http, operator, ids[1]) is None


async def test_a_bad_rule_is_a_422_with_the_cel_error(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        "/v1/rules",
        json={"name": "broken", "condition": "order.total_minor >", "action": "hold"},
        headers={**gateway.auth("admin"), **key()},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "does not compile" in response.json()["detail"]
    missing = await http.get("/v1/rules/broken", headers=gateway.auth("admin"))
    assert missing.status_code == 404
