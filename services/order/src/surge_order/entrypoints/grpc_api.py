"""OrderService over gRPC: request -> command -> handler -> response, nothing else.

Domain errors become status codes in the platform interceptor; an unreachable catalog is
UNAVAILABLE (the caller may retry).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from surge.order.v1 import order_pb2, order_pb2_grpc
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_order.domain import commands
from surge_order.entrypoints import sagas
from surge_order.entrypoints.mapping import list_query, order_to_pb, place_command, view_to_pb
from surge_order.service_layer import handlers
from surge_order.service_layer.ports import Catalog, CatalogUnavailable
from surge_order.service_layer.promotions import PricingCache
from surge_order.service_layer.rules import Screening
from surge_order.service_layer.saga import Orchestrator

__all__ = ["OrderServicer"]

T = TypeVar("T")
# Operator actions (from the gateway's admin routes or `surge-order sagas`), one line each.
_audit = get_logger("surge.audit")
Context = grpc.aio.ServicerContext[Any, Any]


class OrderServicer(order_pb2_grpc.OrderServiceServicer):
    def __init__(
        self,
        uows: handlers.UowFactory,
        catalog: Catalog,
        orchestrator: Orchestrator,
        topology: Topology,
        screening: Screening | None = None,
        pricing: PricingCache | None = None,
    ) -> None:
        self._uows = uows
        self._pricing = pricing
        self._catalog = catalog
        self._orchestrator = orchestrator
        self._topology = topology
        self._screening = screening

    async def PlaceOrder(  # noqa: N802 - gRPC method name
        self, request: order_pb2.PlaceOrderRequest, context: Context
    ) -> order_pb2.PlaceOrderResponse:
        view, created = await _unavailable_on_catalog_failure(
            context,
            lambda: handlers.place_order(
                place_command(request),
                self._uows,
                self._catalog,
                self._orchestrator,
                self._screening,
                self._pricing,
            ),
        )
        return order_pb2.PlaceOrderResponse(order=view_to_pb(view), created=created)

    async def GetOrder(  # noqa: N802
        self, request: order_pb2.GetOrderRequest, context: Context
    ) -> order_pb2.GetOrderResponse:
        view = await handlers.get_order(request.order_id, self._uows)
        return order_pb2.GetOrderResponse(order=view_to_pb(view))

    async def ListOrders(  # noqa: N802
        self, request: order_pb2.ListOrdersRequest, context: Context
    ) -> order_pb2.ListOrdersResponse:
        page = await handlers.list_orders(list_query(request), self._uows)
        return order_pb2.ListOrdersResponse(
            orders=[order_to_pb(o) for o in page.orders], next_page_token=page.next_page_token
        )

    async def CancelOrder(  # noqa: N802
        self, request: order_pb2.CancelOrderRequest, context: Context
    ) -> order_pb2.CancelOrderResponse:
        view = await handlers.cancel_order(
            commands.CancelOrder(request.order_id, request.reason, request.actor),
            self._uows,
            self._orchestrator,
        )
        return order_pb2.CancelOrderResponse(order=view_to_pb(view))

    async def RecordPayment(  # noqa: N802
        self, request: order_pb2.RecordPaymentRequest, context: Context
    ) -> order_pb2.RecordPaymentResponse:
        view = await handlers.record_payment(
            commands.RecordPayment(
                order_id=request.order_id,
                amount_minor=request.amount.amount_minor,
                currency=request.amount.currency,
                method=request.method,
                reference=request.reference,
            ),
            self._uows,
            self._orchestrator,
            self._topology,
        )
        return order_pb2.RecordPaymentResponse(order=view_to_pb(view))

    async def RetrySaga(  # noqa: N802
        self, request: order_pb2.RetrySagaRequest, context: Context
    ) -> order_pb2.RetrySagaResponse:
        _audit.info("audit", actor=request.actor, action="sagas.retry", target=request.order_id)
        view = await handlers.retry_saga(
            commands.RetrySaga(request.order_id, request.actor), self._uows, self._orchestrator
        )
        return order_pb2.RetrySagaResponse(order=view_to_pb(view))

    async def ListSagas(  # noqa: N802
        self, request: order_pb2.ListSagasRequest, context: Context
    ) -> order_pb2.ListSagasResponse:
        return order_pb2.ListSagasResponse(sagas=await sagas.list_sagas(request, self._uows))

    async def CompensateSaga(  # noqa: N802
        self, request: order_pb2.CompensateSagaRequest, context: Context
    ) -> order_pb2.CompensateSagaResponse:
        _audit.info(
            "audit", actor=request.actor, action="sagas.compensate", target=request.order_id
        )
        view = await sagas.compensate_saga(request, self._uows, self._orchestrator)
        return order_pb2.CompensateSagaResponse(order=view_to_pb(view))


async def _unavailable_on_catalog_failure(context: Context, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except CatalogUnavailable as exc:
        await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        raise  # unreachable: abort raises
