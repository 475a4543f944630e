"""Composition root: the only place that wires handlers to transports."""

from __future__ import annotations

from functools import partial

import grpc
from surge.fulfillment.v1 import fulfillment_pb2 as pb
from surge.fulfillment.v1 import fulfillment_pb2_grpc
from surge_platform.db import on_chunk
from surge_platform.inbox import idempotent
from surge_platform.messaging import Route
from surge_platform.service import Components, ConsumerSpec, GrpcService, Infrastructure

from surge_fulfillment.adapters.metrics import FulfillmentMetrics
from surge_fulfillment.adapters.writes import TrackingNumbers, read_chunk
from surge_fulfillment.config import FulfillmentSettings
from surge_fulfillment.entrypoints.grpc_api import FulfillmentServicer
from surge_fulfillment.service_layer import handlers
from surge_fulfillment.service_layer.carrier_book import CarrierBook
from surge_fulfillment.service_layer.unit_of_work import FulfillmentUnitOfWork

__all__ = ["COMMANDS_DURABLE", "build"]

COMMANDS_DURABLE = "fulfillment-commands"


async def build(infra: Infrastructure) -> Components:
    topology = infra.topology
    metrics = FulfillmentMetrics(infra.registry)
    settings = infra.settings
    if not isinstance(settings, FulfillmentSettings):
        raise TypeError(f"fulfillment needs FulfillmentSettings, got {type(settings).__name__}")

    # One pool of tracking numbers per process; a group commit reads ahead which of its orders
    # are new and writes their shipments with one statement (adapters/writes.py).
    tracking = TrackingNumbers()
    on_chunk(infra.engine, read_chunk)

    def uow_factory() -> FulfillmentUnitOfWork:
        return FulfillmentUnitOfWork(infra.engine, tracking)

    create = partial(
        handlers.create_shipments,
        topology=topology,
        metrics=metrics,
        carrier_book=CarrierBook(settings.carrier_rules_ttl_seconds),
        test_failures=settings.test_failures_enabled,
    )
    cancel = partial(handlers.cancel_shipments, topology=topology, metrics=metrics)
    routes: dict[str, Route[pb.CreateShipmentsCommand] | Route[pb.CancelShipmentsCommand]] = {
        topology.subject_for(pb.CreateShipmentsCommand): Route(
            pb.CreateShipmentsCommand, idempotent(COMMANDS_DURABLE, uow_factory, create)
        ),
        topology.subject_for(pb.CancelShipmentsCommand): Route(
            pb.CancelShipmentsCommand, idempotent(COMMANDS_DURABLE, uow_factory, cancel)
        ),
    }
    servicer = FulfillmentServicer(
        uow_factory,
        dispatch=partial(handlers.dispatch_shipment, topology=topology, metrics=metrics),
        deliver=partial(handlers.confirm_delivery, topology=topology, metrics=metrics),
    )

    def register(server: grpc.aio.Server) -> None:
        fulfillment_pb2_grpc.add_FulfillmentServiceServicer_to_server(servicer, server)

    return Components(
        grpc_services=[
            GrpcService(pb.DESCRIPTOR.services_by_name["FulfillmentService"].full_name, register)
        ],
        consumers=[
            ConsumerSpec(
                stream=topology.stream("fulfillment", "cmd"),
                durable=COMMANDS_DURABLE,
                routes=routes,
            )
        ],
    )
