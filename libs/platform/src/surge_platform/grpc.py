"""gRPC server and client plumbing shared by every service.

- `create_server()` builds a `grpc.aio` server with the standard health service, reflection and
  one interceptor that maps domain errors to status codes (one table: `STATUS_BY_ERROR`),
  records RED metrics and propagates the caller's deadline.
- `call_timeout()` gives an outgoing call the smaller of its own budget and what is left of the
  incoming deadline, so a chain of calls never outlives its caller.

    server, health = create_server(metrics)
    inventory_pb2_grpc.add_InventoryServiceServicer_to_server(servicer, server)
    await start_server(server, health, host, port, ["surge.inventory.v1.InventoryService"])
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from opentelemetry import propagate
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from sqlalchemy import exc as sa_exc

from surge_platform import errors
from surge_platform.logging import get_logger
from surge_platform.telemetry import PlatformMetrics

__all__ = [
    "CLIENT_OPTIONS",
    "SERVER_OPTIONS",
    "STATUS_BY_ERROR",
    "call_timeout",
    "channel",
    "create_server",
    "field_violations",
    "start_server",
    "trace_context_interceptors",
]

STATUS_BY_ERROR: tuple[tuple[type[errors.DomainError], grpc.StatusCode], ...] = (
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Conflict, grpc.StatusCode.ABORTED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
)

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "surge_grpc_deadline", default=None
)
_log = get_logger("surge.grpc")


def call_timeout(budget: float) -> float:
    """Seconds an outgoing call may take: `budget`, capped by the incoming deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return budget
    return max(0.001, min(budget, deadline - time.monotonic()))


def status_for(exc: errors.DomainError) -> grpc.StatusCode:
    for error_type, code in STATUS_BY_ERROR:
        if isinstance(exc, error_type):
            return code
    return grpc.StatusCode.UNKNOWN


def _rich_status(code: grpc.StatusCode, exc: errors.DomainError) -> grpc.Status:
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=exc.message)
    if isinstance(exc, errors.InvalidArgument) and exc.field_violations:
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                    for f, d in exc.field_violations.items()
                ]
            )
        )
        status.details.append(detail)
    result: grpc.Status = rpc_status.to_status(status)
    return result


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """The per-field details of an INVALID_ARGUMENT error, for clients (the gateway)."""
    status = rpc_status.from_call(error)
    found: dict[str, str] = {}
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            found.update({v.field: v.description for v in request.field_violations})
    return found


# The service's database is down, restarting or out of pooled connections: transient, so the
# caller gets UNAVAILABLE (the gateway answers 503 + Retry-After and retries reads), not INTERNAL.
_UNAVAILABLE_ERRORS = (
    sa_exc.TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    ConnectionError,
)


class _ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: PlatformMetrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = details.method
        if method.startswith("/grpc.health") or method.startswith("/grpc.reflection"):
            return handler
        inner = handler.unary_unary
        metrics = self._metrics

        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            remaining = context.time_remaining()
            token = _deadline.set(time.monotonic() + remaining if remaining else None)
            code = grpc.StatusCode.OK
            try:
                return await inner(request, context)  # type: ignore[arg-type]
            except errors.DomainError as exc:
                code = status_for(exc)
                status = _rich_status(code, exc)
                await context.abort(status.code, status.details, status.trailing_metadata)
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except _UNAVAILABLE_ERRORS as exc:
                code = grpc.StatusCode.UNAVAILABLE
                _log.warning("database unavailable", method=method, error=type(exc).__name__)
                await context.abort(code, "database unavailable; retry")
            except Exception:
                code = grpc.StatusCode.INTERNAL
                _log.exception("unhandled error in rpc", method=method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                _deadline.reset(token)
                metrics.grpc_requests.labels(method, code.name).inc()
                metrics.grpc_seconds.labels(method).observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.so_reuseport", 0),
    ("grpc.max_concurrent_streams", 1000),
    ("grpc.keepalive_permit_without_calls", 1),
    # Clients ping every 30 s even when idle (`channel()`, the gateway); the default minimum of
    # 5 min made the server answer GOAWAY "too_many_pings", and every client call in flight at
    # that moment failed with UNAVAILABLE. The key is the string behind
    # GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS: grpc ignores keys it does not know,
    # and "grpc.http2.min_recv_ping_interval_without_data_ms", used here before, is one of them.
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
]
CLIENT_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.enable_retries", 1),
]


def create_server(
    metrics: PlatformMetrics, interceptors: Sequence[grpc.aio.ServerInterceptor] = ()
) -> tuple[grpc.aio.Server, health_aio.HealthServicer]:
    server = grpc.aio.server(
        interceptors=[
            aio_server_interceptor(),  # type: ignore[no-untyped-call]
            _ServerInterceptor(metrics),
            *interceptors,
        ],
        options=SERVER_OPTIONS,
    )
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    return server, health


class _PropagateTraceContext(grpc.aio.UnaryUnaryClientInterceptor):
    """Carry the caller's W3C trace context in the call metadata; the server's OpenTelemetry
    interceptor continues the trace from it.

    The official aio client interceptor also opens a client span per call, but under a burst
    of concurrent calls it made them miss 2 s deadlines (BENCHMARKS.md); propagation is all
    a trace per order needs.
    """

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(_with_trace_context(client_call_details), request)


def _with_trace_context(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if not carrier:
        return details
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    for key, value in carrier.items():
        metadata.add(key, value)
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class _PropagateTraceContextStream(grpc.aio.UnaryStreamClientInterceptor):
    """The same for server-streaming calls (e.g. exports)."""

    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(_with_trace_context(client_call_details), request)


def trace_context_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Trace propagation for every unary and server-streaming call of a client channel."""
    return [_PropagateTraceContext(), _PropagateTraceContextStream()]


def channel(target: str) -> grpc.aio.Channel:
    """A client channel to another Surge service: traced, kept alive, balanced per call.

    `target` may be `host:port` or `dns:///name:port`; with several addresses behind a headless
    Kubernetes Service, `round_robin` spreads calls over every replica, not per connection.
    """
    return grpc.aio.insecure_channel(
        target,
        interceptors=trace_context_interceptors(),
        options=CLIENT_OPTIONS,
    )


async def start_server(
    server: grpc.aio.Server,
    health: health_aio.HealthServicer,
    host: str,
    port: int,
    service_names: Iterable[str],
) -> int:
    """Bind, start, enable reflection and report SERVING; returns the bound port."""
    names = list(service_names)
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as exc:  # grpc's message only says to turn on debug logging
        raise OSError(f"cannot bind gRPC port {host}:{port}: already in use?") from exc
    await server.start()
    for name in ["", *names]:
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    return bound
