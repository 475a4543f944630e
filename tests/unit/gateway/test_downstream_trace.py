"""PlaceOrder runs on a channel of its own without client interceptors; it must still carry the
caller's trace context to the order service, as every other call does."""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from surge.order.v1 import order_pb2, order_pb2_grpc
from surge_gateway.downstream import connect

from tests.unit.gateway.conftest import settings_for

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736


class Orders(order_pb2_grpc.OrderServiceServicer):
    def __init__(self) -> None:
        self.traceparents: dict[str, str] = {}

    def _seen(self, name: str, context_: Any) -> None:
        metadata = dict(context_.invocation_metadata())
        self.traceparents[name] = metadata.get("traceparent", "")

    async def PlaceOrder(self, request: Any, context_: Any) -> Any:  # noqa: N802
        self._seen("PlaceOrder", context_)
        return order_pb2.PlaceOrderResponse(order=order_pb2.Order(id="o-1"), created=True)

    async def GetOrder(self, request: Any, context_: Any) -> Any:  # noqa: N802
        self._seen("GetOrder", context_)
        return order_pb2.GetOrderResponse(order=order_pb2.Order(id="o-1"))


async def test_place_order_and_reads_carry_the_callers_trace_context() -> None:
    orders = Orders()
    server = grpc.aio.server()
    order_pb2_grpc.add_OrderServiceServicer_to_server(orders, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    down = connect(settings_for(b"unused", order_addr=f"127.0.0.1:{port}"))
    span = NonRecordingSpan(
        SpanContext(TRACE_ID, 0x00F067AA0BA902B7, is_remote=False, trace_flags=TraceFlags(1))
    )
    token = context.attach(trace.set_span_in_context(span))
    try:
        placed = await down.orders.PlaceOrder(order_pb2.PlaceOrderRequest(), timeout=5)
        assert placed.created
        await down.orders.GetOrder(order_pb2.GetOrderRequest(order_id="o-1"), timeout=5)
    finally:
        context.detach(token)
        await down.close()
        await server.stop(None)
    expected = f"00-{TRACE_ID:032x}-00f067aa0ba902b7-01"
    assert orders.traceparents == {"PlaceOrder": expected, "GetOrder": expected}
