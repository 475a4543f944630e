"""`/v1/rules` and `/v1/reviews` at the HTTP edge: shapes, 422s, idempotency and the actor."""

from __future__ import annotations

from tests.unit.gateway.conftest import Gateway, idem


async def test_a_bad_condition_is_a_422_problem_with_the_cel_error(gw: Gateway) -> None:
    response = await gw.client.post(
        "/v1/rules",
        json={"name": "bad", "condition": "order.nope > 1", "action": "hold"},
        headers={**gw.auth("admin"), **idem()},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "unknown field 'nope'" in problem["detail"]
    assert {"field": "definition.condition", "detail": "unknown field 'nope'"} in problem["errors"]


async def test_an_unknown_action_never_reaches_the_service(gw: Gateway) -> None:
    response = await gw.client.post(
        "/v1/rules",
        json={"name": "x", "condition": "true", "action": "explode"},
        headers={**gw.auth("admin"), **idem()},
    )
    assert response.status_code == 422
    assert gw.down.rules.calls == []


async def test_creating_a_rule_is_idempotent_and_names_the_admin(gw: Gateway) -> None:
    body = {"name": "big", "condition": "order.item_count > 10", "action": "tag"}
    body["params"] = {"tag": "bulk"}
    headers = {**gw.auth("admin", sub="ops-lead"), **idem()}
    first = await gw.client.post("/v1/rules", json=body, headers=headers)
    again = await gw.client.post("/v1/rules", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == again.json()
    assert first.json()["updated_by"] == "user:ops-lead"
    assert len(gw.down.rules.calls) == 1
    assert first.headers["Location"] == "/v1/rules/big"


async def test_a_rejection_needs_a_note_and_records_who_rejected(gw: Gateway) -> None:
    order = "0193-0042"
    headers = gw.auth("operator", sub="bob")
    refused = await gw.client.post(f"/v1/reviews/{order}/reject", json={}, headers=headers)
    assert refused.status_code == 422
    response = await gw.client.post(
        f"/v1/reviews/{order}/reject", json={"note": "stolen card"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert gw.down.reviews.decided == [("rejected", order, "user:bob", "stolen card")]


async def test_the_queue_lists_held_orders(gw: Gateway) -> None:
    response = await gw.client.get("/v1/reviews", headers=gw.auth("operator"))
    assert response.status_code == 200
    page = response.json()
    assert page["next_cursor"] is None
    assert page["items"][0]["reasons"] == ["velocity"]
    assert page["items"][0]["order_status"] == "pending_review"
