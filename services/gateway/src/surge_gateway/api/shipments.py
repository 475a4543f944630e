"""`/v1/shipments`: read, dispatch and confirm delivery (operators or a carrier's API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from surge.fulfillment.v1 import fulfillment_pb2
from surge.order.v1 import order_pb2

from surge_gateway import convert, schemas
from surge_gateway.api.deps import Downstreams, ensure_visible
from surge_gateway.auth import Principal, ShipmentReader, Shipper
from surge_gateway.downstream import Downstream

router = APIRouter(prefix="/v1/shipments", tags=["shipments"])

ShipmentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


async def _visible_shipment(
    down: Downstream, shipment_id: str, principal: Principal
) -> fulfillment_pb2.Shipment:
    reply = await down.fulfillment.GetShipment(
        fulfillment_pb2.GetShipmentRequest(shipment_id=shipment_id), timeout=down.timeout
    )
    shipment: fulfillment_pb2.Shipment = reply.shipment
    if principal.sees_only_own:
        order = await down.orders.GetOrder(
            order_pb2.GetOrderRequest(order_id=shipment.order_id), timeout=down.timeout
        )
        ensure_visible(principal, order.order.customer.id, "Shipment")
    return shipment


@router.get("/{shipment_id}", response_model=schemas.ShipmentPublic, summary="One shipment")
async def get_shipment(
    shipment_id: ShipmentId, principal: ShipmentReader, down: Downstreams
) -> schemas.ShipmentPublic:
    return convert.shipment_public(await _visible_shipment(down, shipment_id, principal))


@router.post(
    "/{shipment_id}/dispatch",
    response_model=schemas.ShipmentPublic,
    summary="Hand a shipment to its carrier",
)
async def dispatch_shipment(
    shipment_id: ShipmentId,
    principal: Shipper,
    down: Downstreams,
    body: Annotated[schemas.DispatchRequest | None, Body()] = None,
) -> schemas.ShipmentPublic:
    body = body or schemas.DispatchRequest()
    reply = await down.fulfillment.DispatchShipment(
        fulfillment_pb2.DispatchShipmentRequest(
            shipment_id=shipment_id,
            carrier=body.carrier or "",
            tracking_number=body.tracking_number or "",
            actor=principal.rate_key,
        ),
        timeout=down.timeout,
    )
    return convert.shipment_public(reply.shipment)


@router.post(
    "/{shipment_id}/deliver",
    response_model=schemas.ShipmentPublic,
    summary="Confirm a shipment was delivered",
)
async def deliver_shipment(
    shipment_id: ShipmentId,
    principal: Shipper,
    down: Downstreams,
    body: Annotated[schemas.DeliverRequest | None, Body()] = None,
) -> schemas.ShipmentPublic:
    request = fulfillment_pb2.ConfirmDeliveryRequest(
        shipment_id=shipment_id, actor=principal.rate_key
    )
    if body is not None and body.delivered_at is not None:
        request.delivered_at.CopyFrom(convert.to_timestamp(body.delivered_at))
    reply = await down.fulfillment.ConfirmDelivery(request, timeout=down.timeout)
    return convert.shipment_public(reply.shipment)
