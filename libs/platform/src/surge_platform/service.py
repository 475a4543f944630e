"""The host every gRPC service runs in: one asyncio process, roles selectable.

A service's `bootstrap.py` provides `build(infra) -> Components` (its servicers, consumer routes
and timers); `serve()` does the rest in the same order everywhere: settings -> logging and
tracing -> engine -> NATS and streams -> components -> gRPC server, consumers, outbox relay,
/metrics -> run until SIGTERM -> graceful stop.

Roles (`--role`) let Kubernetes scale the API, the consumers and the relay apart; `all` runs
everything in one process.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import grpc
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.operations.v1 import operations_pb2_grpc

from surge_platform.config import ServiceSettings
from surge_platform.db import asyncpg_dsn, batch_transaction, create_engine, publish_after_commit
from surge_platform.grpc import create_server, start_server
from surge_platform.logging import configure_logging, get_logger
from surge_platform.messaging import JetStreamConsumer, Route, Topology, connect
from surge_platform.ops_service import SERVICE_NAME as OPERATIONS_SERVICE
from surge_platform.ops_service import Collector, OperationsServicer, collect_periodically
from surge_platform.outbox import DirectPublisher, OutboxRelay
from surge_platform.runtime import Runtime, Task
from surge_platform.telemetry import PlatformMetrics, init_tracing, serve_metrics

__all__ = [
    "Components",
    "ConsumerSpec",
    "GrpcService",
    "Infrastructure",
    "Role",
    "consumer_for",
    "serve",
]


class Role(StrEnum):
    ALL = "all"
    API = "api"
    CONSUMER = "consumer"
    RELAY = "relay"


@dataclass(frozen=True)
class Infrastructure:
    """What `build()` may use to wire a service."""

    settings: ServiceSettings
    engine: AsyncEngine
    nats: NatsClient
    js: JetStreamContext
    topology: Topology
    registry: CollectorRegistry
    metrics: PlatformMetrics


@dataclass(frozen=True)
class GrpcService:
    full_name: str
    register: Callable[[grpc.aio.Server], None]


@dataclass(frozen=True)
class ConsumerSpec:
    stream: str
    durable: str
    routes: Mapping[str, Route[Any]]


@dataclass
class Components:
    grpc_services: Sequence[GrpcService] = ()
    consumers: Sequence[ConsumerSpec] = ()
    timers: Sequence[tuple[str, Task]] = field(default_factory=list)
    # Gauges refreshed by one periodic platform timer (cheap queries, never on scrape).
    collectors: Sequence[Collector] = ()
    collect_every: float = 2.0


Build = Callable[[Infrastructure], Awaitable[Components]]


def consumer_for(
    spec: ConsumerSpec, infra: Infrastructure, backoff: Sequence[float] | None = None
) -> JetStreamConsumer:
    """The consumer for `spec`, wired from settings the same way in production and in tests."""
    settings = infra.settings
    consumer = JetStreamConsumer(
        js=infra.js,
        topology=infra.topology,
        stream=spec.stream,
        durable=spec.durable,
        routes=spec.routes,
        metrics=infra.metrics,
        batch=settings.consumer_batch,
        concurrency=settings.consumer_concurrency,
        max_deliver=settings.max_deliver,
        group_commit=(
            functools.partial(batch_transaction, infra.engine)
            if settings.consumer_group_commit
            else None
        ),
    )
    if backoff is not None:
        consumer.backoff = backoff
    return consumer


async def serve(settings: ServiceSettings, build: Build, role: Role = Role.ALL) -> None:
    name = settings.service_name
    configure_logging(name, settings.log_level, json=settings.log_json)
    init_tracing(name)
    log = get_logger("surge.service")
    registry = CollectorRegistry()
    metrics = PlatformMetrics(registry)
    database_url = settings.database_url.get_secret_value()
    engine = create_engine(database_url, pool_size=settings.db_pool_size)
    nc = await connect(settings.nats_url, f"surge-{name}-{role}")
    js = nc.jetstream(timeout=10)
    topology = Topology(settings.nats_prefix)
    await topology.ensure_streams(js)
    infra = Infrastructure(settings, engine, nc, js, topology, registry, metrics)
    components = await build(infra)
    # Every service answers the operator's dead-letter and backlog calls the same way.
    operations = OperationsServicer(
        engine, js, topology, name, [spec.durable for spec in components.consumers]
    )
    components.grpc_services = [*components.grpc_services, operations_service(operations)]
    collectors = [operations.dead_letter_gauge(metrics), *components.collectors]

    runtime = Runtime(name, grace=settings.shutdown_grace_seconds)
    if role in (Role.ALL, Role.API):
        server, health = create_server(metrics)
        for service in components.grpc_services:
            service.register(server)
        port = await start_server(
            server,
            health,
            settings.grpc_host,
            settings.grpc_port,
            [s.full_name for s in components.grpc_services],
        )
        log.info("grpc serving", port=port)

        async def stop_grpc() -> None:
            await health.enter_graceful_shutdown()
            await server.stop(settings.shutdown_grace_seconds / 2)

        runtime.on_shutdown("grpc", stop_grpc)
    if role in (Role.ALL, Role.CONSUMER):
        for spec in components.consumers:
            consumer = consumer_for(spec, infra)
            runtime.add_task(f"consumer:{spec.durable}", consumer.run)
        for timer_name, timer in components.timers:
            runtime.add_task(f"timer:{timer_name}", timer)
        runtime.add_task(
            "timer:gauges",
            functools.partial(collect_periodically, collectors, components.collect_every),
        )
    direct = settings.outbox_direct_publish
    if direct and role is not Role.RELAY:
        publisher = DirectPublisher(engine, js, metrics=metrics)
        publish_after_commit(engine, publisher.submit)
        runtime.add_task("outbox-publisher", publisher.run)
    if role in (Role.ALL, Role.RELAY):
        relay = OutboxRelay(
            engine,
            js,
            listen_dsn=asyncpg_dsn(database_url),
            metrics=metrics,
            grace=settings.outbox_relay_grace_seconds if direct else 0.0,
        )
        runtime.add_task("outbox-relay", relay.run)
    serve_metrics(registry, settings.grpc_host, settings.metrics_port)
    runtime.on_shutdown("database", engine.dispose)
    runtime.on_shutdown("nats", nc.drain)
    await runtime.run()


def operations_service(servicer: OperationsServicer) -> GrpcService:
    def register(server: grpc.aio.Server) -> None:
        operations_pb2_grpc.add_OperationsServiceServicer_to_server(servicer, server)

    return GrpcService(OPERATIONS_SERVICE, register)
