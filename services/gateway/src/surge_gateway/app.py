"""`create_app(settings)`: the gateway's composition root. Nothing happens at import time.

The lifespan opens the database engine and the gRPC channels; tests pass `overrides` (fake
stubs and in-memory stores) to run the same app without any I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import create_engine
from surge_platform.logging import get_logger

from surge_gateway import problems
from surge_gateway.admission import AdmissionController
from surge_gateway.api import admin, channels, health, inventory, invoices, orders, shipments
from surge_gateway.api import exports as exports_api
from surge_gateway.api import promotions as promotions_api
from surge_gateway.api import reports as reports_api
from surge_gateway.api import returns as returns_api
from surge_gateway.api import reviews as reviews_api
from surge_gateway.api import rules as rules_api
from surge_gateway.api.admin_ops import router as admin_ops_router
from surge_gateway.audit import AuditLog, PgAuditLog
from surge_gateway.auth import ApiKeyStore, Authenticator
from surge_gateway.config import GatewaySettings
from surge_gateway.downstream import Downstream, connect
from surge_gateway.idempotency import Idempotency, IdempotencyStore
from surge_gateway.intake import IntakeLog, Placer
from surge_gateway.metrics import GatewayMetrics
from surge_gateway.order_events import OrderEvents
from surge_gateway.ratelimit import RateLimiter

__all__ = ["Overrides", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = get_logger("surge.gateway")


@dataclass
class Overrides:
    """Replacements for the I/O-backed parts, for tests: anything left None is built for real."""

    downstream: Downstream | None = None
    idempotency_store: IdempotencyStore | None = None
    api_keys: ApiKeyStore | None = None
    intake_log: IntakeLog | None = None
    tracer: trace.Tracer | None = None
    audit_log: AuditLog | None = None


class _Observe:
    """RED metrics per route template, and the rate-limit headers on every response."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        state = scope.setdefault("state", {})
        # The server span is opened outside this middleware by the FastAPI instrumentation.
        span = trace.get_current_span()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Stable semconv name, next to the instrumentation's own (it ends the span
                # with the last body chunk, so set it now).
                span.set_attribute("http.response.status_code", status)
                extra = state.get("rate_limit_headers")
                if extra:
                    headers = list(message.get("headers", []))
                    present = {k.lower() for k, _ in headers}
                    headers += [
                        (k.lower().encode(), v.encode())
                        for k, v in extra.items()
                        if k.lower().encode() not in present
                    ]
                    message["headers"] = headers
            await send(message)

        method = scope.get("method", "GET")
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.duration.labels(template, method).observe(time.perf_counter() - started)


async def _purge(engine: AsyncEngine, every: float) -> None:
    from surge_gateway.adapters.postgres import PgIdempotencyStore, PgIntakeLog

    store, log = PgIdempotencyStore(engine), PgIntakeLog(engine)
    while True:
        await asyncio.sleep(every)
        try:
            await store.purge_expired()
            await log.purge_older_than(timedelta(days=1))
        except Exception:
            _log.warning("purge failed", exc_info=True)


def create_app(settings: GatewaySettings, overrides: Overrides | None = None) -> FastAPI:
    overrides = overrides or Overrides()
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine: AsyncEngine | None = None
        purger: asyncio.Task[None] | None = None
        idempotency_store = overrides.idempotency_store
        api_keys = overrides.api_keys
        intake_log = overrides.intake_log
        if idempotency_store is None or api_keys is None or intake_log is None:
            from surge_gateway.adapters.postgres import (
                PgApiKeyStore,
                PgIdempotencyStore,
                PgIntakeLog,
            )

            engine = create_engine(
                settings.database_url.get_secret_value(), pool_size=settings.db_pool_size
            )
            app.state.engine = engine
            purger = asyncio.create_task(_purge(engine, 3600.0))
            idempotency_store = idempotency_store or PgIdempotencyStore(engine)
            api_keys = api_keys or PgApiKeyStore(engine)
            intake_log = intake_log or PgIntakeLog(engine)
        audit_log = overrides.audit_log
        if audit_log is None:
            if engine is None:
                engine = create_engine(
                    settings.database_url.get_secret_value(), pool_size=settings.db_pool_size
                )
                app.state.engine = engine
            audit_log = PgAuditLog(engine)
        app.state.audit_log = audit_log
        order_events = OrderEvents(settings.nats_url, settings.nats_prefix)
        order_events.start()
        app.state.order_events = order_events
        downstream = overrides.downstream or connect(settings)

        admission = AdmissionController(
            max_in_flight=settings.admission_max_in_flight,
            max_latency=settings.admission_max_latency_seconds,
            window=settings.admission_window_seconds,
            retry_after=settings.admission_retry_after_seconds,
            metrics=metrics,
        )
        app.state.settings = settings
        app.state.metrics = metrics
        app.state.registry = registry
        app.state.downstream = downstream
        app.state.admission = admission
        app.state.rate_limiter = RateLimiter(settings.rate_limits, metrics)
        app.state.authenticator = Authenticator(
            public_key=load_pem_public_key(settings.public_key_pem().encode()),
            algorithm=settings.jwt_algorithm,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            api_keys=api_keys,
        )
        app.state.idempotency = Idempotency(
            idempotency_store,
            metrics,
            ttl=timedelta(hours=settings.idempotency_ttl_hours),
            lease=timedelta(seconds=settings.place_order_timeout_seconds + 30),
            wait=settings.idempotency_wait_seconds,
        )
        app.state.placer = Placer(
            downstream=downstream,
            admission=admission,
            intake_log=intake_log,
            metrics=metrics,
            duplicate_window=timedelta(seconds=settings.duplicate_window_seconds),
        )
        try:
            yield
        finally:
            if purger is not None:
                purger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purger
            await order_events.close()
            if overrides.downstream is None:
                await downstream.close()
            if engine is not None:
                await engine.dispose()

    app = FastAPI(
        title="Surge API",
        version="1.0.0",
        description="Surge order management: orders, inventory, shipments, invoices, channels.",
        lifespan=lifespan,
        responses={**problems.PROBLEM_RESPONSES},
    )
    problems.install(app)
    # Routers carry their full paths (no include prefix) so route templates in metrics are whole.
    for module in (orders, inventory, shipments, invoices, channels, admin, health):
        app.include_router(module.router)
    app.include_router(admin_ops_router)
    app.include_router(rules_api.router)
    app.include_router(reviews_api.router)
    app.include_router(promotions_api.router)
    app.include_router(reports_api.router)
    app.include_router(exports_api.router)
    app.include_router(returns_api.router)
    app.add_middleware(_Observe, metrics=metrics)
    # The official instrumentation opens the SERVER span (continuing the caller's traceparent)
    # outermost, so the gRPC client spans below it, and the order's whole trace, hang off it.
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_OneTracer(overrides.tracer) if overrides.tracer else None,
        excluded_urls="/healthz,/readyz,/metrics",
        exclude_spans=["receive", "send"],
    )
    return app


class _OneTracer(trace.TracerProvider):
    """A provider handing out one given tracer (tests pass a tracer, not a provider)."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return self._tracer
