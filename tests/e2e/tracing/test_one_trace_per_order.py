"""One order is one trace: gateway HTTP -> order gRPC -> outbox/NATS -> every participant.

The whole system runs with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at an OTLP/gRPC receiver this
test starts, so spans travel the real export path (BatchSpanProcessor -> OTLP exporter).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent import futures
from dataclasses import dataclass

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2
from surge_platform.testing.servers import NatsServer, PostgresServer

from tests.integration.operations.stack import Stack, private_stack
from tests.support import wait_until

pytestmark = pytest.mark.e2e

SERVER = trace_pb2.Span.SPAN_KIND_SERVER
CONSUMER = trace_pb2.Span.SPAN_KIND_CONSUMER


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace collector that keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()

    def Export(  # noqa: N802 - gRPC method name
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        received = []
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            service = attributes.get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                received += [
                    ReceivedSpan(
                        service,
                        span.name,
                        span.kind,
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex(),
                    )
                    for span in scope_spans.spans
                ]
        with self._lock:
            self.spans += received
        return trace_service_pb2.ExportTraceServiceResponse()

    def in_trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, int]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    collector = Receiver()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield collector, port
    finally:
        server.stop(grace=None)


@pytest.fixture
async def traced_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, receiver: tuple[Receiver, int]
) -> AsyncIterator[Stack]:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver[1]}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    async with private_stack(postgres_server, nats_server, env=env, with_gateway=True) as stack:
        yield stack


def _consumed(spans: list[ReceivedSpan], service: str, message: str) -> bool:
    return any(
        s.service == f"surge-{service}" and s.kind == CONSUMER and s.name.endswith(f".{message}")
        for s in spans
    )


async def test_one_order_is_one_trace_from_http_to_every_participant(
    traced_stack: Stack, receiver: tuple[Receiver, int]
) -> None:
    collector, _ = receiver
    system, gateway = traced_stack.system, traced_stack.gateway
    assert gateway is not None
    sku = system.unique("TRACE")
    await system.create_sku(sku, {"HZ-01": 10})
    customer = gateway.auth("customer", sub=system.unique("cust"))
    body = {
        "channel": "web",
        "customer": {"name": "Li Lei", "phone": f"+86139{uuid.uuid4().int % 10**8:08d}"},
        "shipping_address": {
            "province": "Zhejiang",
            "city": "Hangzhou",
            "district": "Xihu",
            "line1": "90 Wensan Rd",
            "postal_code": "310012",
        },
        "lines": [{"sku": sku, "quantity": 1}],
        "payment_terms": "on_account",
    }
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        placed = await http.post(
            "/v1/orders", json=body, headers={**customer, "Idempotency-Key": uuid.uuid4().hex}
        )
        assert placed.status_code == 202, placed.text
        order_id = placed.json()["id"]

        async def invoiced() -> bool:
            response = await http.get(f"/v1/orders/{order_id}", headers=customer)
            return bool(response.json()["status"] == "awaiting_shipment")

        await wait_until(invoiced, 30, f"order {order_id} invoiced")

    def http_server_span() -> ReceivedSpan | None:
        for span in list(collector.spans):
            if span.service == "surge-gateway" and span.name == "POST /v1/orders":
                return span
        return None

    await wait_until(lambda: http_server_span() is not None, 15, "the gateway's request span")
    root = http_server_span()
    assert root is not None
    assert root.kind == SERVER
    assert root.parent_span_id == ""  # the test sent no traceparent: the trace starts here

    def complete() -> bool:
        spans = collector.in_trace(root.trace_id)
        return all(
            [
                _consumed(spans, "inventory", "reserve_stock"),
                _consumed(spans, "fulfillment", "create_shipments"),
                _consumed(spans, "billing", "issue_invoice"),
                _consumed(spans, "order", "stock_reserved"),
                _consumed(spans, "order", "shipments_created"),
                _consumed(spans, "order", "invoice_issued"),
            ]
        )

    place: list[ReceivedSpan] = []
    orphans: list[ReceivedSpan] = []

    def whole() -> bool:
        # Spans arrive in batches from five processes: wait until no parent is missing.
        spans = collector.in_trace(root.trace_id)
        ids = {s.span_id for s in spans}
        orphans[:] = [s for s in spans if s is not root and s.parent_span_id not in ids]
        place[:] = [
            s
            for s in spans
            if s.service == "surge-order"
            and s.kind == SERVER
            and s.name == "/surge.order.v1.OrderService/PlaceOrder"
        ]
        return complete() and len(place) == 1 and not orphans

    try:
        await wait_until(whole, 15, "the saga's spans in the order's trace")
    except AssertionError:
        spans = collector.in_trace(root.trace_id)
        raise AssertionError(
            f"trace {root.trace_id}: {sorted((s.service, s.name) for s in spans)}; "
            f"orphans: {orphans}"
        ) from None
    # The order's spans are all in this trace: no participant started a trace of its own.
    assert {s.service for s in collector.in_trace(root.trace_id)} == {
        "surge-gateway",
        "surge-order",
        "surge-inventory",
        "surge-fulfillment",
        "surge-billing",
    }
