from __future__ import annotations

import asyncio

from tests.support import wait_until
from tests.unit.gateway.conftest import Gateway, MakeGateway, order_body


def _headers(gw: Gateway, key: str, sub: str = "alice") -> dict[str, str]:
    return {**gw.auth("customer", sub=sub), "Idempotency-Key": key}


async def test_same_key_and_body_replays_the_first_response(gw: Gateway) -> None:
    first = await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
    again = await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
    assert first.status_code == again.status_code == 202
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["location"] == first.headers["location"]
    assert gw.orders.place_calls == 1


async def test_same_key_with_a_different_body_is_422(gw: Gateway) -> None:
    await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
    other = order_body(lines=[{"sku": "TEA-1", "quantity": 3}])
    response = await gw.client.post("/v1/orders", json=other, headers=_headers(gw, "k1"))
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert gw.orders.place_calls == 1


async def test_the_same_key_on_another_endpoint_is_a_different_request(gw: Gateway) -> None:
    await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
    response = await gw.client.post(
        "/v1/orders/0193-0001/payments",
        json={
            "amount": {"amount_minor": 2000, "currency": "CNY"},
            "method": "alipay",
            "reference": "r",
        },
        headers=_headers(gw, "k1"),
    )
    assert response.status_code == 422


async def test_keys_are_scoped_to_the_principal(gw: Gateway) -> None:
    alice = await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
    bob = await gw.client.post(
        "/v1/orders", json=order_body(), headers=_headers(gw, "k1", sub="bob")
    )
    assert alice.status_code == bob.status_code == 202
    assert alice.json()["id"] != bob.json()["id"]
    assert "idempotent-replayed" not in bob.headers


async def test_a_key_still_in_flight_is_409(make_gateway: MakeGateway) -> None:
    async with make_gateway(idempotency_wait_seconds=0) as gw:
        gw.orders.hold = asyncio.Event()
        first = asyncio.create_task(
            gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
        )
        await wait_until(lambda: gw.orders.placing == 1, 5, "first request in flight")
        second = await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
        assert second.status_code == 409
        assert second.headers["retry-after"]
        gw.orders.hold.set()
        assert (await first).status_code == 202
        assert gw.orders.place_calls == 1


async def test_concurrent_repeats_wait_for_the_first_and_get_the_same_response(
    gw: Gateway,
) -> None:
    gw.orders.hold = asyncio.Event()
    tasks = [
        asyncio.create_task(
            gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
        )
        for _ in range(20)
    ]
    await wait_until(lambda: gw.orders.placing == 1, 5, "one request in flight")
    gw.orders.hold.set()
    responses = await asyncio.gather(*tasks)
    assert {r.status_code for r in responses} == {202}
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 19
    assert gw.orders.place_calls == 1


async def test_a_failed_request_releases_its_key_for_a_retry(gw: Gateway) -> None:
    import grpc

    from tests.unit.gateway.fakes import rpc_error

    gw.orders.fail = rpc_error(grpc.StatusCode.UNAVAILABLE)
    failed = await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
    assert failed.status_code == 503
    gw.orders.fail = None
    retried = await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
    assert retried.status_code == 202
    assert "idempotent-replayed" not in retried.headers


async def test_posts_that_create_require_an_idempotency_key(gw: Gateway) -> None:
    response = await gw.client.post("/v1/orders", json=order_body(), headers=gw.auth("customer"))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"Idempotency-Key"}
    assert gw.orders.place_calls == 0


async def test_replays_are_counted_in_metrics(gw: Gateway) -> None:
    for _ in range(3):
        await gw.client.post("/v1/orders", json=order_body(), headers=_headers(gw, "k1"))
    metrics = (await gw.client.get("/metrics")).text
    assert "surge_gateway_idempotent_replays_total 2.0" in metrics


async def test_the_same_external_id_under_a_new_key_returns_the_existing_order(
    gw: Gateway,
) -> None:
    body = order_body(external_id="W-77")
    first = await gw.client.post("/v1/orders", json=body, headers=_headers(gw, "k1"))
    second = await gw.client.post("/v1/orders", json=body, headers=_headers(gw, "k2"))
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert "idempotent-replayed" not in second.headers
