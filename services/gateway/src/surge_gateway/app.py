"""`create_app(settings)`: the gateway's composition root. Nothing happens at import time.

The lifespan opens the database engine and the gRPC channels; tests pass `overrides` (fake
stubs and in-memory stores) to run the same app without any I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import FastAPI
from opentelemetry import trace
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
from surge_gateway.auth import ApiKeyStore, Authenticator, document_security
from surge_gateway.config import GatewaySettings
from surge_gateway.downstream import Downstream, connect
from surge_gateway.idempotency import Idempotency, IdempotencyStore
from surge_gateway.intake import IntakeLog, Placer
from surge_gateway.metrics import GatewayMetrics
from surge_gateway.observe import Observe
from surge_gateway.order_events import OrderEvents
from surge_gateway.ratelimit import RateLimiter
from surge_gateway.shed import ShedNewOrders

__all__ = ["Overrides", "create_app"]

_log = get_logger("surge.gateway")
# The routes behind admission control (api/deps.py: NewOrderPurchaser, NewOrderChannel).
NEW_ORDER_PATHS = ("/v1/orders", "/v1/channels/{channel}/orders")


@dataclass
class Overrides:
    """Replacements for the I/O-backed parts, for tests: anything left None is built for real."""

    downstream: Downstream | None = None
    idempotency_store: IdempotencyStore | None = None
    api_keys: ApiKeyStore | None = None
    intake_log: IntakeLog | None = None
    tracer: trace.Tracer | None = None
    audit_log: AuditLog | None = None


async def _purge(pool: asyncpg.Pool, every: float) -> None:
    from surge_gateway.adapters.postgres import PgIdempotencyStore, PgIntakeLog

    store, log = PgIdempotencyStore(pool), PgIntakeLog(pool)
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
        pool: asyncpg.Pool | None = None
        purger: asyncio.Task[None] | None = None
        idempotency_store = overrides.idempotency_store
        api_keys = overrides.api_keys
        intake_log = overrides.intake_log
        if idempotency_store is None or api_keys is None or intake_log is None:
            from surge_gateway.adapters.postgres import (
                PgApiKeyStore,
                PgIdempotencyStore,
                PgIntakeLog,
                open_pool,
            )

            engine = create_engine(
                settings.database_url.get_secret_value(), pool_size=settings.db_pool_size
            )
            app.state.engine = engine
            # The accept path's stores run on plain asyncpg (adapters/postgres.py says why).
            pool = await open_pool(settings.database_url.get_secret_value(), settings.db_pool_size)
            purger = asyncio.create_task(_purge(pool, 3600.0))
            idempotency_store = idempotency_store or PgIdempotencyStore(pool)
            api_keys = api_keys or PgApiKeyStore(engine)
            intake_log = intake_log or PgIntakeLog(pool)
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
            if pool is not None:
                await pool.close()
            if engine is not None:
                await engine.dispose()

    app = FastAPI(
        title="Surge API",
        version="1.0.0",
        description="Surge order management: orders, inventory, shipments, invoices, channels.",
        lifespan=lifespan,
        responses={**problems.PROBLEM_RESPONSES},
        # `Observe` below opens the SERVER span; FastAPI's own telemetry would add a second one
        # (and metrics and operation spans nobody reads) at a CPU cost on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    problems.install(app)
    document_security(app)
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
    # Inside `Observe`, so that shed orders are traced and counted like any other request.
    app.add_middleware(ShedNewOrders, routes=app.router.routes, paths=NEW_ORDER_PATHS)
    # One pure-ASGI layer opens the SERVER span (continuing the caller's traceparent), so the
    # gRPC calls below it, and the order's whole trace, hang off it; it also counts the request.
    app.add_middleware(
        Observe,
        metrics=metrics,
        tracer=overrides.tracer,
        untraced=("/healthz", "/readyz", "/metrics"),
    )
    return app
