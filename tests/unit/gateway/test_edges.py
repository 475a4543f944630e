"""Live order events (SSE), health, readiness, metrics, OpenAPI and the token tool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from surge.order.v1 import order_pb2
from surge_gateway.auth import Authenticator, Role
from surge_gateway.entrypoints.cli import main

from tests.support import wait_until
from tests.unit.gateway.conftest import Gateway, MakeGateway, idem, order_body


async def _place(gw: Gateway) -> str:
    response = await gw.client.post(
        "/v1/orders", json=order_body(), headers={**gw.auth("customer"), **idem()}
    )
    order_id: str = response.json()["id"]
    return order_id


def _events(text: str) -> list[tuple[str, str]]:
    found = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        found.append((fields["id"], fields["event"]))
    return found


async def test_order_events_stream_each_status_change_until_terminal(
    make_gateway: MakeGateway,
) -> None:
    async with make_gateway(sse_poll_seconds=0.01) as gw:
        order_id = await _place(gw)
        stream = asyncio.create_task(
            gw.client.get(f"/v1/orders/{order_id}/events", headers=gw.auth("customer"))
        )
        await wait_until(lambda: gw.orders.get_calls >= 3, 5, "the stream to poll")
        gw.orders.advance(order_id, order_pb2.ORDER_STATUS_PAID, "payment received")
        seen = gw.orders.get_calls
        await wait_until(lambda: gw.orders.get_calls >= seen + 3, 5, "more polls")
        assert not stream.done()  # still open: the order is not finished
        gw.orders.advance(order_id, order_pb2.ORDER_STATUS_CANCELLED, "customer asked")
        response = await asyncio.wait_for(stream, 5)  # ends by itself at a terminal status
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert _events(response.text) == [("1", "status"), ("2", "status"), ("3", "status")]
        assert '"to_status": "paid"' in response.text
        assert '"reason": "customer asked"' in response.text


async def test_order_events_resume_after_last_event_id(make_gateway: MakeGateway) -> None:
    async with make_gateway(sse_poll_seconds=0.01) as gw:
        order_id = await _place(gw)
        gw.orders.advance(order_id, order_pb2.ORDER_STATUS_CANCELLED, "customer asked")
        response = await gw.client.get(
            f"/v1/orders/{order_id}/events",
            headers={**gw.auth("customer"), "Last-Event-ID": "1"},
        )
        assert _events(response.text) == [("2", "status")]


async def test_healthz_is_up_and_readyz_follows_every_dependency(gw: Gateway) -> None:
    assert (await gw.client.get("/healthz")).json() == {"status": "ok"}
    ready = await gw.client.get("/readyz")
    assert ready.status_code == 200
    gw.down.health["billing"].serving = False
    not_ready = await gw.client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["billing"] is False


async def test_metrics_show_red_per_route_template(gw: Gateway) -> None:
    await gw.client.get("/v1/orders/0193-0404", headers=gw.auth("operator"))
    text = (await gw.client.get("/metrics")).text
    assert (
        'surge_gateway_http_requests_total{method="GET",route="/v1/orders/{order_id}",'
        'status="404"} 1.0'
    ) in text
    assert 'surge_gateway_http_request_duration_seconds_count{method="GET",' in text
    assert "0193-0404" not in text  # ids never become labels


async def test_openapi_is_3_1_and_documents_problems_and_security(gw: Gateway) -> None:
    spec = (await gw.client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert "Problem" in spec["components"]["schemas"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])
    place = spec["paths"]["/v1/orders"]["post"]
    assert "202" in place["responses"]
    assert "application/problem+json" in place["responses"]["422"]["content"]
    params = {p["name"] for p in place["parameters"]}
    assert "Idempotency-Key" in params
    # Every operation but the probes names both schemes (allow() reads them itself, not as
    # FastAPI sub-dependencies; auth.document_security writes them into the document).
    unsecured = {
        (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if operation.get("security") != [{"HTTPBearer": []}, {"APIKeyHeader": []}]
    }
    assert unsecured == {("get", "/healthz"), ("get", "/readyz")}
    assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "description": "Channel or carrier API key",
        "in": "header",
        "name": "X-Api-Key",
    }
    assert (await gw.client.get("/openapi.json")).json() == spec  # patched once, then cached


def test_token_tool_prints_a_token_the_gateway_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    main(["token", "--role", "operator", "--sub", "alice", "--key-dir", str(tmp_path)])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    public = load_pem_public_key((tmp_path / "jwt-public.pem").read_bytes())
    auth = Authenticator(public, "EdDSA", "surge", "surge-api", api_keys=None)  # type: ignore[arg-type]
    principal = auth.verify_token(token)
    assert principal.subject == "alice"
    assert principal.roles == {Role.OPERATOR}
    assert oct((tmp_path / "jwt-private.pem").stat().st_mode & 0o777) == "0o600"
    # The key pair is reused: a second token verifies with the same public key.
    main(["token", "--role", "customer", "--sub", "c-1", "--key-dir", str(tmp_path)])
    second = capsys.readouterr().out.strip().splitlines()[-1]
    assert auth.verify_token(second).sees_only_own


async def test_a_request_continues_the_callers_trace(make_gateway: MakeGateway) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with make_gateway(tracer=provider.get_tracer("test")) as gw:
        await gw.client.get(
            "/v1/orders/0193-0404",
            headers={**gw.auth("operator"), "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
        )
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /v1/orders/{order_id}"
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 404
    assert span.kind == trace.SpanKind.SERVER
