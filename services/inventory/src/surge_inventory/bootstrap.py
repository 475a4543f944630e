"""The composition root: the only place handlers, repositories and servers are wired."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from surge.inventory.v1 import inventory_pb2 as pb
from surge.inventory.v1 import inventory_pb2_grpc as pb_grpc
from surge_platform.db import on_chunk
from surge_platform.inbox import idempotent
from surge_platform.messaging import Route
from surge_platform.service import Components, ConsumerSpec, GrpcService, Infrastructure

from surge_inventory.adapters.chunk import read_chunk
from surge_inventory.adapters.metrics import InventoryMetrics
from surge_inventory.config import InventorySettings
from surge_inventory.entrypoints.expiry import ExpirySweeper
from surge_inventory.entrypoints.grpc_api import SERVICE_NAME, InventoryServicer
from surge_inventory.entrypoints.returns_wiring import return_consumer
from surge_inventory.service_layer import handlers
from surge_inventory.service_layer.unit_of_work import InventoryReader, InventoryUnitOfWork

__all__ = ["COMMANDS_DURABLE", "build"]

COMMANDS_DURABLE = "inventory-commands"


async def build(infra: Infrastructure) -> Components:
    settings = infra.settings
    if not isinstance(settings, InventorySettings):
        raise TypeError("the inventory service needs InventorySettings")
    metrics = InventoryMetrics(infra.registry)
    deps = handlers.Deps(settings=settings, topology=infra.topology, metrics=metrics)

    def uow_factory() -> InventoryUnitOfWork:
        return InventoryUnitOfWork(infra.engine)

    # A group commit locks its reservations and reads its SKUs' levels up front (one statement
    # each), and writes its reservation changes with one statement.
    on_chunk(infra.engine, read_chunk)

    def on(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        return functools.partial(handler, deps=deps)

    topology = infra.topology
    routes: dict[str, Route[Any]] = {
        topology.subject_for(pb.ReserveStockCommand): Route(
            pb.ReserveStockCommand,
            idempotent(COMMANDS_DURABLE, uow_factory, on(handlers.reserve_stock)),
        ),
        topology.subject_for(pb.CommitReservationCommand): Route(
            pb.CommitReservationCommand,
            idempotent(COMMANDS_DURABLE, uow_factory, on(handlers.commit_reservation)),
        ),
        topology.subject_for(pb.ReleaseStockCommand): Route(
            pb.ReleaseStockCommand,
            idempotent(COMMANDS_DURABLE, uow_factory, on(handlers.release_stock)),
        ),
        topology.subject_for(pb.ConfirmReservationCommand): Route(
            pb.ConfirmReservationCommand,
            idempotent(COMMANDS_DURABLE, uow_factory, on(handlers.confirm_reservation)),
        ),
    }

    def reader_factory() -> InventoryReader:
        return InventoryReader(infra.engine)

    servicer = InventoryServicer(uow_factory, reader_factory, metrics)

    def register(server: grpc.aio.Server) -> None:
        pb_grpc.add_InventoryServiceServicer_to_server(servicer, server)

    sweeper = ExpirySweeper(uow_factory, deps)
    return Components(
        grpc_services=[GrpcService(SERVICE_NAME, register)],
        consumers=[
            ConsumerSpec(topology.stream("inventory", "cmd"), COMMANDS_DURABLE, routes),
            return_consumer(deps, uow_factory),
        ],
        timers=[("reservation-expiry", sweeper.run)],
        collectors=[
            functools.partial(
                metrics.collect_stock,
                infra.engine,
                settings.watched_skus,
                settings.watched_lowest_skus,
            )
        ],
        collect_every=settings.stock_gauge_interval_seconds,
    )
