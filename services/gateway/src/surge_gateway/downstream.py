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
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from surge.billing.v1 import billing_pb2_grpc
from surge.fulfillment.v1 import fulfillment_pb2_grpc
from surge.inventory.v1 import inventory_pb2_grpc
from surge.order.v1 import order_pb2_grpc

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


def connect(settings: GatewaySettings) -> Downstream:
    options = [
        ("grpc.service_config", _service_config()),
        ("grpc.enable_retries", 1),
        ("grpc.lb_policy_name", "round_robin"),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_permit_without_calls", 1),
    ]
    # Traced like every Surge client channel, so one trace runs HTTP -> gRPC -> NATS.
    interceptors = aio_client_interceptors()  # type: ignore[no-untyped-call]
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
    return Downstream(
        orders=order_pb2_grpc.OrderServiceStub(channels["order"]),
        inventory=inventory_pb2_grpc.InventoryServiceStub(channels["inventory"]),
        fulfillment=fulfillment_pb2_grpc.FulfillmentServiceStub(channels["fulfillment"]),
        billing=billing_pb2_grpc.BillingServiceStub(channels["billing"]),
        health={name: health_pb2_grpc.HealthStub(ch) for name, ch in channels.items()},
        timeout=settings.grpc_timeout_seconds,
        place_timeout=settings.place_order_timeout_seconds,
        channels=list(channels.values()),
    )
