from __future__ import annotations

import grpc
import pytest
from surge_gateway.problems import http_status_for

from tests.unit.gateway.conftest import Gateway, idem, order_body
from tests.unit.gateway.fakes import rpc_error

EXPECTED = [
    (grpc.StatusCode.NOT_FOUND, 404),
    (grpc.StatusCode.INVALID_ARGUMENT, 422),
    (grpc.StatusCode.FAILED_PRECONDITION, 409),
    (grpc.StatusCode.ALREADY_EXISTS, 409),
    (grpc.StatusCode.ABORTED, 409),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, 409),
    (grpc.StatusCode.PERMISSION_DENIED, 403),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
    (grpc.StatusCode.UNAVAILABLE, 503),
    (grpc.StatusCode.INTERNAL, 500),
    (grpc.StatusCode.UNKNOWN, 500),
    (grpc.StatusCode.DATA_LOSS, 500),
]


@pytest.mark.parametrize(("code", "status"), EXPECTED, ids=[c.name for c, _ in EXPECTED])
async def test_downstream_status_becomes_problem_json_with_mapped_http_status(
    gw: Gateway, code: grpc.StatusCode, status: int
) -> None:
    gw.orders.fail = rpc_error(code, "order 42 is in state shipped")
    response = await gw.client.get("/v1/orders/42", headers=gw.auth("operator"))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"]
    assert "10.0.0.12" not in response.text  # the debug string never leaks
    if status >= 500:
        assert "order 42" not in response.text  # nor does an internal message
    else:
        assert problem["detail"] == "order 42 is in state shipped"


def test_every_mapped_code_is_a_client_or_gateway_status() -> None:
    assert {http_status_for(c) for c in grpc.StatusCode} <= {401, 403, 404, 409, 422, 500, 503, 504}


async def test_invalid_argument_carries_per_field_errors(gw: Gateway) -> None:
    gw.orders.fail = rpc_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid order",
        {"lines[0].sku": "unknown SKU 'NOPE'", "customer.phone": "malformed"},
    )
    response = await gw.client.post(
        "/v1/orders", json=order_body(), headers={**gw.auth("customer"), **idem()}
    )
    assert response.status_code == 422
    errors = {e["field"]: e["detail"] for e in response.json()["errors"]}
    assert errors == {"lines[0].sku": "unknown SKU 'NOPE'", "customer.phone": "malformed"}


async def test_unavailable_downstream_asks_the_client_to_retry(gw: Gateway) -> None:
    gw.orders.fail = rpc_error(grpc.StatusCode.UNAVAILABLE)
    response = await gw.client.get("/v1/orders/42", headers=gw.auth("operator"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"


async def test_invalid_body_is_422_naming_each_bad_field(gw: Gateway) -> None:
    body = order_body(lines=[{"sku": "TEA-1", "quantity": 0}], payment_terms="cash")
    response = await gw.client.post(
        "/v1/orders", json=body, headers={**gw.auth("customer"), **idem()}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"lines.0.quantity", "payment_terms"} <= fields
    assert gw.orders.place_calls == 0


async def test_unknown_route_is_a_problem_too(gw: Gateway) -> None:
    response = await gw.client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_unexpected_exception_is_500_without_internals(gw: Gateway) -> None:
    gw.orders.fail = RuntimeError("secret connection string postgres://x")  # type: ignore[assignment]
    response = await gw.client.get("/v1/orders/42", headers=gw.auth("operator"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "postgres" not in response.text


@pytest.mark.parametrize(
    "name", ["Li\x00Lei", "Li\nLei", "\ud800"], ids=["nul", "newline", "lone-surrogate"]
)
async def test_control_characters_and_broken_unicode_are_422_at_the_edge(
    gw: Gateway, name: str
) -> None:
    import json

    body = order_body(customer={"name": name, "phone": "+8613800000000"})
    response = await gw.client.post(
        "/v1/orders",
        content=json.dumps(body).encode(),
        headers={**gw.auth("customer"), **idem(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert gw.orders.place_calls == 0


async def test_the_gateways_own_database_down_is_503_not_500(gw: Gateway) -> None:
    async def broken(*args: object) -> None:
        raise ConnectionRefusedError("connect call failed ('10.1.2.3', 5432)")

    gw.store.claim = broken  # type: ignore[method-assign]
    response = await gw.client.post(
        "/v1/orders", json=order_body(), headers={**gw.auth("customer"), **idem()}
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "10.1.2.3" not in response.text
