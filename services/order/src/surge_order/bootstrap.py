"""The composition root: settings -> catalog client, orchestrator -> servicer, consumers, sweeper.

The only place that wires handlers to subjects.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from google.protobuf.message import Message
from surge.billing.v1 import billing_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge.order.v1 import order_pb2, order_pb2_grpc
from surge_platform.grpc import channel as grpc_channel
from surge_platform.inbox import idempotent
from surge_platform.logging import get_logger
from surge_platform.messaging import Route, Topology
from surge_platform.service import Components, ConsumerSpec, GrpcService, Infrastructure

from surge_order.adapters.catalog import GrpcCatalog
from surge_order.adapters.metrics import OrderMetrics
from surge_order.config import OrderSettings
from surge_order.entrypoints.grpc_api import OrderServicer
from surge_order.service_layer.saga import Orchestrator, SagaPolicy
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["DURABLES", "build", "consumers", "policy"]

DURABLES = ("order-inventory-events", "order-fulfillment-events", "order-billing-events")
_log = get_logger("surge.order.sweeper")


def policy(settings: OrderSettings) -> SagaPolicy:
    return SagaPolicy(
        unpaid_timeout_seconds=settings.unpaid_timeout_seconds,
        reservation_ttl_seconds=settings.reservation_ttl_seconds,
        step_deadline_seconds=settings.step_deadline_seconds,
        step_backoff_max_seconds=settings.step_backoff_max_seconds,
        max_step_attempts=settings.max_step_attempts,
        sweep_batch=settings.sweep_batch,
    )


def consumers(
    topology: Topology, orchestrator: Orchestrator, uows: Callable[[], OrderUnitOfWork]
) -> list[ConsumerSpec]:
    """The three durables and what each reply or event does."""
    o = orchestrator
    handled: dict[
        str, list[tuple[type[Message], Callable[[Any, OrderUnitOfWork], Awaitable[None]]]]
    ] = {
        "inventory": [
            (inventory_pb2.StockReserved, o.on_stock_reserved),
            (inventory_pb2.StockRejected, o.on_stock_rejected),
            (inventory_pb2.StockReleased, o.on_stock_released),
            (inventory_pb2.ReservationExpired, o.on_reservation_expired),
        ],
        "fulfillment": [
            (fulfillment_pb2.ShipmentsCreated, o.on_shipments_created),
            (fulfillment_pb2.ShipmentsRejected, o.on_shipments_rejected),
            (fulfillment_pb2.ShipmentsCancelled, o.on_shipments_cancelled),
            (fulfillment_pb2.ShipmentDispatched, o.on_shipment_dispatched),
            (fulfillment_pb2.ShipmentDelivered, o.on_shipment_delivered),
        ],
        "billing": [
            (billing_pb2.InvoiceIssued, o.on_invoice_issued),
            (billing_pb2.InvoiceRejected, o.on_invoice_rejected),
            (billing_pb2.InvoiceVoided, o.on_invoice_voided),
        ],
    }
    specs = []
    for context, routes in handled.items():
        durable = f"order-{context}-events"
        specs.append(
            ConsumerSpec(
                stream=topology.stream(context, "evt"),
                durable=durable,
                routes={
                    topology.subject_for(message_type): Route(
                        message_type, idempotent(durable, uows, handler)
                    )
                    for message_type, handler in routes
                },
            )
        )
    return specs


def sweeper(
    orchestrator: Orchestrator, uows: Callable[[], OrderUnitOfWork], interval: float
) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """Every `interval` seconds, resend or fail saga steps past their deadline."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with uows() as uow:
                    touched = await orchestrator.sweep(uow)
            except Exception:
                _log.exception("saga sweep failed; retrying")
                touched = 0
            if touched:
                continue  # a full batch may have more behind it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    return run


async def build(infra: Infrastructure) -> Components:
    settings = infra.settings
    assert isinstance(settings, OrderSettings)
    metrics = OrderMetrics(infra.registry)
    orchestrator = Orchestrator(infra.topology, metrics, policy(settings))

    def uows() -> OrderUnitOfWork:
        return OrderUnitOfWork(infra.engine)

    # Traced: the catalog lookup is part of the order's trace.
    channel = grpc_channel(settings.inventory_addr)
    catalog = GrpcCatalog(channel, settings.inventory_timeout_seconds)
    servicer = OrderServicer(uows, catalog, orchestrator, infra.topology)
    full_name = order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name
    return Components(
        grpc_services=[
            GrpcService(
                full_name,
                lambda server: order_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server),
            )
        ],
        consumers=consumers(infra.topology, orchestrator, uows),
        timers=[("saga-sweeper", sweeper(orchestrator, uows, settings.sweep_interval_seconds))],
    )
