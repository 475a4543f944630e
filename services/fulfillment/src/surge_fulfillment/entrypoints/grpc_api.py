"""FulfillmentService over gRPC: request -> handler -> response, nothing else.

Domain errors become status codes in the platform interceptor (`STATUS_BY_ERROR`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from surge.fulfillment.v1 import fulfillment_pb2 as pb
from surge.fulfillment.v1 import fulfillment_pb2_grpc

from surge_fulfillment.domain import commands
from surge_fulfillment.domain.model import Shipment
from surge_fulfillment.service_layer import handlers, messages
from surge_fulfillment.service_layer.unit_of_work import FulfillmentUnitOfWork

__all__ = ["FulfillmentServicer"]

UNKNOWN_ACTOR = "unspecified"

Context = grpc.aio.ServicerContext[Any, Any]
Dispatch = Callable[[commands.DispatchShipment, FulfillmentUnitOfWork], Awaitable[Shipment]]
Deliver = Callable[[commands.ConfirmDelivery, FulfillmentUnitOfWork], Awaitable[Shipment]]


class FulfillmentServicer(fulfillment_pb2_grpc.FulfillmentServiceServicer):
    def __init__(
        self,
        uow_factory: Callable[[], FulfillmentUnitOfWork],
        dispatch: Dispatch,
        deliver: Deliver,
    ) -> None:
        self._uow = uow_factory
        self._dispatch = dispatch
        self._deliver = deliver

    async def GetShipment(  # noqa: N802 - names from the proto service
        self, request: pb.GetShipmentRequest, context: Context
    ) -> pb.GetShipmentResponse:
        shipment = await handlers.get_shipment(request.shipment_id, self._uow())
        return pb.GetShipmentResponse(shipment=messages.shipment_to_proto(shipment))

    async def ListShipments(  # noqa: N802 - names from the proto service
        self, request: pb.ListShipmentsRequest, context: Context
    ) -> pb.ListShipmentsResponse:
        shipments = await handlers.list_shipments(request.order_id, self._uow())
        return pb.ListShipmentsResponse(
            shipments=[messages.shipment_to_proto(s) for s in shipments]
        )

    async def DispatchShipment(  # noqa: N802 - names from the proto service
        self, request: pb.DispatchShipmentRequest, context: Context
    ) -> pb.DispatchShipmentResponse:
        command = commands.DispatchShipment(
            shipment_id=request.shipment_id,
            actor=request.actor or UNKNOWN_ACTOR,
            carrier=request.carrier,
            tracking_number=request.tracking_number,
        )
        shipment = await self._dispatch(command, self._uow())
        return pb.DispatchShipmentResponse(shipment=messages.shipment_to_proto(shipment))

    async def ConfirmDelivery(  # noqa: N802 - names from the proto service
        self, request: pb.ConfirmDeliveryRequest, context: Context
    ) -> pb.ConfirmDeliveryResponse:
        command = commands.ConfirmDelivery(
            shipment_id=request.shipment_id,
            actor=request.actor or UNKNOWN_ACTOR,
            delivered_at=(
                messages.from_timestamp(request.delivered_at)
                if request.HasField("delivered_at")
                else None
            ),
        )
        shipment = await self._deliver(command, self._uow())
        return pb.ConfirmDeliveryResponse(shipment=messages.shipment_to_proto(shipment))
