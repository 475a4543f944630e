"""Dead letters, backlog and the audit trail through /v1/admin (fake OperationsService stubs)."""

from __future__ import annotations

import grpc

from tests.unit.gateway.conftest import Gateway
from tests.unit.gateway.fakes import FakeOperations, MemoryAuditLog, rpc_error

LETTERS = "/v1/admin/services/inventory/dead-letters"


def _audit(gw: Gateway) -> MemoryAuditLog:
    log: MemoryAuditLog = gw.app.state.audit_log
    return log


def _inventory(gw: Gateway) -> FakeOperations:
    ops: FakeOperations = gw.down.operations["inventory"]
    return ops


async def test_list_and_show_a_dead_letter_with_its_decoded_payload(gw: Gateway) -> None:
    admin = gw.auth("admin", sub="ops-lead")
    listed = await gw.client.get(LETTERS, headers=admin)
    assert listed.status_code == 200
    assert [d["sequence"] for d in listed.json()["dead_letters"]] == [1, 2, 3]

    shown = await gw.client.get(f"{LETTERS}/2", headers=admin)
    assert shown.status_code == 200
    body = shown.json()
    assert body["consumer"] == "inventory-commands"
    assert body["payload"] == {"order_id": "o-2"}
    assert body["headers"]["Surge-Message-Id"] == "m-2"


async def test_redrive_is_audited_with_actor_and_request_id(gw: Gateway) -> None:
    headers = {**gw.auth("admin", sub="ops-lead"), "X-Request-Id": "req-42"}
    response = await gw.client.post(f"{LETTERS}/1/redrive", headers=headers)
    assert response.status_code == 200, response.text
    assert [d["sequence"] for d in response.json()["dead_letters"]] == [1]
    assert _inventory(gw).redriven == [1]
    [entry] = _audit(gw).entries
    assert (entry.actor, entry.action, entry.target, entry.outcome, entry.request_id) == (
        "user:ops-lead",
        "dead_letters.redrive",
        "inventory#1",
        "ok",
        "req-42",
    )


async def test_an_unknown_dead_letter_is_404_and_the_refusal_is_audited(gw: Gateway) -> None:
    admin = gw.auth("admin")
    response = await gw.client.delete(f"{LETTERS}/99", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert len(_inventory(gw).letters) == 3
    assert [(e.action, e.outcome) for e in _audit(gw).entries] == [
        ("dead_letters.purge", "NOT_FOUND")
    ]


async def test_a_batch_names_sequences_or_all_never_both(gw: Gateway) -> None:
    admin = gw.auth("admin")
    for body in ({}, {"sequences": [1], "all": True}, {"sequences": [0]}):
        response = await gw.client.post(f"{LETTERS}/purge", json=body, headers=admin)
        assert response.status_code == 422, body
    assert len(_inventory(gw).letters) == 3
    everything = await gw.client.post(f"{LETTERS}/purge", json={"all": True}, headers=admin)
    assert everything.status_code == 200
    assert _inventory(gw).letters == {}


async def test_an_unknown_service_is_422(gw: Gateway) -> None:
    response = await gw.client.get(
        "/v1/admin/services/gateway/dead-letters", headers=gw.auth("admin")
    )
    assert response.status_code == 422


async def test_backlog_covers_every_service_even_when_one_is_down(gw: Gateway) -> None:
    gw.down.operations["billing"].fail = rpc_error(grpc.StatusCode.UNAVAILABLE)
    response = await gw.client.get("/v1/admin/backlog", headers=gw.auth("admin"))
    assert response.status_code == 200
    services = {s["service"]: s for s in response.json()["services"]}
    assert set(services) == {"order", "inventory", "fulfillment", "billing"}
    inventory = services["inventory"]
    assert inventory["outbox_rows"] == 3
    assert inventory["outbox_oldest_age_seconds"] == 2.5
    assert inventory["dead_letters"] == 3
    assert inventory["consumers"] == [
        {"consumer": "inventory-commands", "pending": 7, "ack_pending": 1}
    ]
    assert services["billing"] == {
        "service": "billing",
        "reachable": False,
        "outbox_rows": None,
        "outbox_oldest_age_seconds": None,
        "consumers": [],
        "dead_letters": None,
        "error": "UNAVAILABLE",
    }


async def test_the_audit_trail_pages_newest_first(gw: Gateway) -> None:
    admin = gw.auth("admin", sub="root")
    for _ in range(3):
        assert (await gw.client.get("/v1/admin/backlog", headers=admin)).status_code == 200
    assert (await gw.client.get(LETTERS, headers=admin)).status_code == 200

    first = (await gw.client.get("/v1/admin/audit", params={"limit": 3}, headers=admin)).json()
    assert [i["action"] for i in first["items"]] == ["dead_letters.list", *["backlog.read"] * 2]
    assert first["items"][0]["actor"] == "user:root"
    rest = await gw.client.get(
        "/v1/admin/audit", params={"limit": 3, "cursor": first["next_cursor"]}, headers=admin
    )
    assert [i["id"] for i in rest.json()["items"]] == [1]
    assert rest.json()["next_cursor"] is None
    only = await gw.client.get(
        "/v1/admin/audit", params={"action": "dead_letters.list"}, headers=admin
    )
    assert [i["id"] for i in only.json()["items"]] == [4]
    bad = await gw.client.get("/v1/admin/audit", params={"cursor": "nope"}, headers=admin)
    assert bad.status_code == 422


async def test_saga_actions_are_audited_too(gw: Gateway) -> None:
    response = await gw.client.get("/v1/admin/sagas", headers=gw.auth("admin", sub="lead"))
    assert response.status_code == 200
    [entry] = _audit(gw).entries
    assert (entry.actor, entry.action, entry.outcome) == ("user:lead", "sagas.list", "ok")
    assert entry.request_id  # the trace id when no X-Request-Id was sent
