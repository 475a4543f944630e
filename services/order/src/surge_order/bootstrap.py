"""The composition root: settings -> catalog client, orchestrator -> servicer, consumers, sweeper.

The only place that wires handlers to subjects.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from surge.billing.v1 import billing_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge.order.v1 import (
    order_pb2,
    order_pb2_grpc,
    promotions_pb2,
    promotions_pb2_grpc,
    reports_pb2,
    reports_pb2_grpc,
    rules_pb2,
    rules_pb2_grpc,
)
from surge_platform.db import on_chunk
from surge_platform.grpc import channel as grpc_channel
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology
from surge_platform.service import Components, ConsumerSpec, GrpcService, Infrastructure

from surge_order.adapters.catalog import GrpcCatalog
from surge_order.adapters.metrics import OrderMetrics
from surge_order.adapters.repository import lock_chunk
from surge_order.adapters.rules_metrics import RulesMetrics
from surge_order.config import OrderSettings
from surge_order.entrypoints.grpc_api import OrderServicer
from surge_order.entrypoints.promotions_api import PromotionServicer
from surge_order.entrypoints.reports_api import ReportServicer
from surge_order.entrypoints.returns_wiring import return_components
from surge_order.entrypoints.rules_api import ReviewServicer, RuleServicer
from surge_order.entrypoints.wiring import Handled, Timer, event_consumer, sweeper_loop
from surge_order.service_layer.promotions import PricingCache
from surge_order.service_layer.review import ReviewDesk
from surge_order.service_layer.rules import RuleEngine, Screening
from surge_order.service_layer.saga import Orchestrator, SagaPolicy
from surge_order.service_layer.sold_out import SoldOutGate
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
        review_hold_seconds=settings.review_hold_seconds,
    )


def consumers(
    topology: Topology, orchestrator: Orchestrator, uows: Callable[[], OrderUnitOfWork]
) -> list[ConsumerSpec]:
    """The three durables and what each reply or event does."""
    o = orchestrator
    handled: dict[str, Handled] = {
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
    return [
        event_consumer(topology, context, f"order-{context}-events", uows, routes, saga=True)
        for context, routes in handled.items()
    ]


def sweeper(
    orchestrator: Orchestrator, uows: Callable[[], OrderUnitOfWork], interval: float
) -> Timer:
    """Every `interval` seconds, resend or fail saga steps past their deadline."""
    return sweeper_loop(orchestrator.sweep, uows, interval, _log, "saga sweep failed; retrying")


async def build(infra: Infrastructure) -> Components:
    settings = infra.settings
    assert isinstance(settings, OrderSettings)
    metrics = OrderMetrics(infra.registry)
    sold_out = SoldOutGate(settings.sold_out_hold_seconds, metrics.sold_out_refusals.inc)
    orchestrator = Orchestrator(infra.topology, metrics, policy(settings), sold_out)

    def uows() -> OrderUnitOfWork:
        return OrderUnitOfWork(infra.engine)

    def saga_uows() -> OrderUnitOfWork:
        return OrderUnitOfWork(infra.engine, batch_writes=True)

    # A group commit locks its chunk's orders with one statement, and an invoice reply chunk
    # reads their shipment counts with one more (performance).
    on_chunk(infra.engine, functools.partial(lock_chunk, counted=(billing_pb2.InvoiceIssued,)))

    # Traced: the catalog lookup is part of the order's trace.
    channel = grpc_channel(settings.inventory_addr)
    catalog = GrpcCatalog(
        channel, settings.inventory_timeout_seconds, settings.catalog_cache_seconds
    )
    rules_metrics = RulesMetrics(infra.registry)
    engine = RuleEngine(rules_metrics)
    screening = Screening(engine, uows, infra.topology, rules_metrics)
    desk = ReviewDesk(
        uows, orchestrator, infra.topology, rules_metrics, settings.review_escalation_seconds
    )
    # Promotions, member-priced SKUs and limits, cached for placement like the catalog.
    pricing = PricingCache(settings.catalog_cache_seconds)
    servicer = OrderServicer(uows, catalog, orchestrator, infra.topology, screening, pricing)
    rule_servicer, review_servicer = RuleServicer(uows, engine), ReviewServicer(desk)
    rules_services = rules_pb2.DESCRIPTOR.services_by_name
    full_name = order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name
    # Returns (RMA): their own servicer, reply durables and sweeper (docs/returns.md).
    return_service, return_consumers, return_sweeper = return_components(infra, orchestrator, uows)
    return Components(
        grpc_services=[
            return_service,
            GrpcService(
                full_name,
                lambda server: order_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server),
            ),
            GrpcService(
                rules_services["RuleService"].full_name,
                lambda server: rules_pb2_grpc.add_RuleServiceServicer_to_server(
                    rule_servicer, server
                ),
            ),
            GrpcService(
                rules_services["ReviewService"].full_name,
                lambda server: rules_pb2_grpc.add_ReviewServiceServicer_to_server(
                    review_servicer, server
                ),
            ),
            GrpcService(
                promotions_pb2.DESCRIPTOR.services_by_name["PromotionService"].full_name,
                lambda server: promotions_pb2_grpc.add_PromotionServiceServicer_to_server(
                    PromotionServicer(uows, catalog, pricing), server
                ),
            ),
            GrpcService(
                reports_pb2.DESCRIPTOR.services_by_name["ReportService"].full_name,
                lambda server: reports_pb2_grpc.add_ReportServiceServicer_to_server(
                    ReportServicer(uows), server
                ),
            ),
        ],
        consumers=[*consumers(infra.topology, orchestrator, saga_uows), *return_consumers],
        timers=[
            ("saga-sweeper", sweeper(orchestrator, uows, settings.sweep_interval_seconds)),
            return_sweeper,
            ("rules-refresh", engine.poller(uows, settings.rules_refresh_seconds)),
            ("review-escalation", desk.escalator(settings.review_sweep_seconds)),
        ],
        collectors=[functools.partial(metrics.collect_sagas, infra.engine)],
    )
