"""Translation between the protobuf contracts and the domain model."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2 as pb

from surge_fulfillment.domain import events, planning
from surge_fulfillment.domain.model import Address, Shipment, ShipmentLine, ShipmentStatus

STATUS_TO_PROTO: dict[ShipmentStatus, pb.ShipmentStatus] = {
    ShipmentStatus.CREATED: pb.SHIPMENT_STATUS_CREATED,
    ShipmentStatus.PICKED: pb.SHIPMENT_STATUS_PICKED,
    ShipmentStatus.PACKED: pb.SHIPMENT_STATUS_PACKED,
    ShipmentStatus.DISPATCHED: pb.SHIPMENT_STATUS_DISPATCHED,
    ShipmentStatus.DELIVERED: pb.SHIPMENT_STATUS_DELIVERED,
    ShipmentStatus.CANCELLED: pb.SHIPMENT_STATUS_CANCELLED,
}


def timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at.astimezone(UTC))
    return stamp


def from_timestamp(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def address_from_proto(address: common_pb2.Address) -> Address:
    return Address(
        province=address.province,
        city=address.city,
        district=address.district,
        line1=address.line1,
        postal_code=address.postal_code,
    )


def address_to_proto(address: Address) -> common_pb2.Address:
    return common_pb2.Address(
        province=address.province,
        city=address.city,
        district=address.district,
        line1=address.line1,
        postal_code=address.postal_code,
    )


def items_from_proto(command: pb.CreateShipmentsCommand) -> list[planning.Item]:
    return [planning.Item(i.sku, i.warehouse, i.quantity, i.weight_grams) for i in command.items]


def lines_to_proto(lines: tuple[ShipmentLine, ...]) -> list[pb.ShipmentLine]:
    return [pb.ShipmentLine(sku=line.sku, quantity=line.quantity) for line in lines]


def shipment_to_proto(shipment: Shipment) -> pb.Shipment:
    message = pb.Shipment(
        id=shipment.id,
        order_id=shipment.order_id,
        warehouse=shipment.warehouse,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=STATUS_TO_PROTO[shipment.status],
        lines=lines_to_proto(shipment.lines),
        weight_grams=shipment.weight_grams,
        created_at=timestamp(shipment.created_at),
        updated_at=timestamp(shipment.updated_at),
        address=address_to_proto(shipment.address),
    )
    if shipment.dispatched_at:
        message.dispatched_at.CopyFrom(timestamp(shipment.dispatched_at))
    if shipment.delivered_at:
        message.delivered_at.CopyFrom(timestamp(shipment.delivered_at))
    return message


def event_to_proto(event: events.Event) -> pb.ShipmentDispatched | pb.ShipmentDelivered:
    match event:
        case events.ShipmentDispatched():
            return pb.ShipmentDispatched(
                order_id=event.order_id,
                shipment_id=event.shipment_id,
                warehouse=event.warehouse,
                carrier=event.carrier,
                tracking_number=event.tracking_number,
                lines=lines_to_proto(event.lines),
                dispatched_at=timestamp(event.dispatched_at),
            )
        case events.ShipmentDelivered():
            return pb.ShipmentDelivered(
                order_id=event.order_id,
                shipment_id=event.shipment_id,
                delivered_at=timestamp(event.delivered_at),
            )
