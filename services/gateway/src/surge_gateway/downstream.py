"""gRPC channels to the four services, created in the app's lifespan (never at import time).

Read methods (Get*, List*, BatchGet*) are retried by the channel on UNAVAILABLE; writes are
never retried here (PlaceOrder is idempotent on client_order_id, but the caller decides).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry import propagate
from surge.billing.v1 import billing_pb2_grpc, credit_notes_pb2_grpc, finance_pb2_grpc
from surge.fulfillment.v1 import fulfillment_pb2_grpc
from surge.inventory.v1 import inventory_pb2_grpc
from surge.operations.v1 import operations_pb2_grpc
from surge.order.v1 import (
    order_pb2_grpc,
    promotions_pb2_grpc,
    reports_pb2_grpc,
    returns_pb2_grpc,
    rules_pb2_grpc,
)
from surge_platform.grpc import CLIENT_OPTIONS, trace_context_interceptors

from surge_gateway.config import GatewaySettings

__all__ = ["Downstream", "connect"]

_READS = {
    "surge.order.v1.OrderService": ["GetOrder", "ListOrders"],
    "surge.inventory.v1.InventoryService": [
        "GetSku",
        "BatchGetSkus",
        "ListWarehouses",
        "GetStock",
        "ListStock",
        "GetReservation",
    ],
    "surge.fulfillment.v1.FulfillmentService": ["GetShipment", "ListShipments"],
    "surge.billing.v1.BillingService": ["GetInvoice", "ListInvoices", "GetCredit"],
    "surge.billing.v1.FinanceService": ["GetReconciliation", "GetReceivablesAging"],
    "surge.order.v1.ReportService": ["GetSalesReport"],
    "surge.order.v1.ReturnService": ["GetReturn", "ListReturns"],
    "surge.billing.v1.RefundService": [
        "GetCreditNote",
        "ListCreditNotes",
        "ListRefunds",
        "GetOrderBalance",
    ],
}


def _service_config() -> str:
    return json.dumps(
        {
            "methodConfig": [
                {
                    "name": [
                        {"service": service, "method": method}
                        for service, methods in _READS.items()
                        for method in methods
                    ],
                    "retryPolicy": {
                        "maxAttempts": 3,
                        "initialBackoff": "0.02s",
                        "maxBackoff": "0.2s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
    )


@dataclass
class Downstream:
    """Stubs of the four services plus their health stubs; `timeout` is the per-call deadline."""

    orders: Any
    inventory: Any
    fulfillment: Any
    billing: Any
    health: dict[str, Any]
    timeout: float = 2.0
    place_timeout: float = 3.0
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    # Service name -> surge.operations.v1.OperationsService stub (dead letters, backlog).
    operations: dict[str, Any] = field(default_factory=dict)
    # surge.order.v1.RuleService and ReviewService stubs (order rules, review queue).
    rules: Any = None
    reviews: Any = None
    # surge.order.v1.PromotionService stub (promotions, tiers, member prices, purchase limits).
    promotions: Any = None
    # surge.billing.v1.FinanceService and surge.order.v1.ReportService stubs (finance reports).
    finance: Any = None
    reports: Any = None
    # surge.order.v1.ReturnService and surge.billing.v1.RefundService stubs (returns, refunds).
    returns: Any = None
    refunds: Any = None

    async def all_serving(self, timeout: float = 1.0) -> dict[str, bool]:
        async def serving(stub: Any) -> bool:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
            except grpc.aio.AioRpcError:
                return False
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

        names = list(self.health)
        results = await asyncio.gather(*(serving(self.health[n]) for n in names))
        return dict(zip(names, results, strict=True))

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


class _Traced:
    """A unary method called with the caller's trace context in its metadata, as the channel
    interceptors (`trace_context_interceptors`) would add it."""

    __slots__ = ("_call",)

    def __init__(self, call: grpc.aio.UnaryUnaryMultiCallable[Any, Any]) -> None:
        self._call = call

    def __call__(
        self, request: Any, *, metadata: tuple[tuple[str, str], ...] = (), **kwargs: Any
    ) -> grpc.aio.UnaryUnaryCall[Any, Any]:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return self._call(request, metadata=(*metadata, *carrier.items()), **kwargs)


def connect(settings: GatewaySettings) -> Downstream:
    options = [*CLIENT_OPTIONS, ("grpc.service_config", _service_config())]
    # Traced like every Surge client channel, so one trace runs HTTP -> gRPC -> NATS: the
    # minimal propagator, not the official aio client interceptor, whose client span per call
    # cost CPU and deadline misses under bursts (BENCHMARKS.md).
    interceptors = trace_context_interceptors()
    addresses = {
        "order": settings.order_addr,
        "inventory": settings.inventory_addr,
        "fulfillment": settings.fulfillment_addr,
        "billing": settings.billing_addr,
    }
    channels = {
        name: grpc.aio.insecure_channel(addr, options=options, interceptors=interceptors)
        for name, addr in addresses.items()
    }
    orders: Any = order_pb2_grpc.OrderServiceStub(channels["order"])
    # PlaceOrder (every accepted order) goes on a channel without interceptors and carries the
    # trace context itself: grpc.aio runs an intercepted call as a second task wrapping the real
    # one, ~0.05-0.1 ms of client CPU per call (measured with a trivial server).
    accept = grpc.aio.insecure_channel(settings.order_addr, options=options)
    orders.PlaceOrder = _Traced(order_pb2_grpc.OrderServiceStub(accept).PlaceOrder)
    return Downstream(
        orders=orders,
        inventory=inventory_pb2_grpc.InventoryServiceStub(channels["inventory"]),
        fulfillment=fulfillment_pb2_grpc.FulfillmentServiceStub(channels["fulfillment"]),
        billing=billing_pb2_grpc.BillingServiceStub(channels["billing"]),
        health={name: health_pb2_grpc.HealthStub(ch) for name, ch in channels.items()},
        timeout=settings.grpc_timeout_seconds,
        place_timeout=settings.place_order_timeout_seconds,
        channels=[*channels.values(), accept],
        operations={
            name: operations_pb2_grpc.OperationsServiceStub(ch) for name, ch in channels.items()
        },
        rules=rules_pb2_grpc.RuleServiceStub(channels["order"]),
        reviews=rules_pb2_grpc.ReviewServiceStub(channels["order"]),
        promotions=promotions_pb2_grpc.PromotionServiceStub(channels["order"]),
        finance=finance_pb2_grpc.FinanceServiceStub(channels["billing"]),
        reports=reports_pb2_grpc.ReportServiceStub(channels["order"]),
        returns=returns_pb2_grpc.ReturnServiceStub(channels["order"]),
        refunds=credit_notes_pb2_grpc.RefundServiceStub(channels["billing"]),
    )
