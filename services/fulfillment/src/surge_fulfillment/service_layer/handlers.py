"""Fulfillment handlers: the saga's commands (protobuf, from JetStream) and the warehouse's.

Every handler runs in one unit of work and commits its state change, its audit rows, its outbox
reply and (through `idempotent()`) its inbox row together. Saga handlers are idempotent on the
order, not only on the message: a command repeated by the order's sweeper (a new message id)
replies the same and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from surge.fulfillment.v1 import fulfillment_pb2 as pb
from surge_platform.errors import InvalidArgument
from surge_platform.ids import new_id
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_fulfillment.adapters.metrics import FulfillmentMetrics
from surge_fulfillment.domain import commands, planning
from surge_fulfillment.domain.carriers import NoCarrier, choose_carrier
from surge_fulfillment.domain.errors import ShipmentNotFound, UnknownCarrier
from surge_fulfillment.domain.model import Shipment, ShipmentStatus
from surge_fulfillment.service_layer import messages
from surge_fulfillment.service_layer.carrier_book import CarrierBook
from surge_fulfillment.service_layer.unit_of_work import FulfillmentUnitOfWork

__all__ = [
    "SAGA_ACTOR",
    "cancel_shipments",
    "confirm_delivery",
    "create_shipments",
    "dispatch_shipment",
    "get_shipment",
    "list_shipments",
]

SAGA_ACTOR = "order-saga"
_log = get_logger("surge.fulfillment")


def _now() -> datetime:
    return datetime.now(UTC)


async def create_shipments(
    cmd: pb.CreateShipmentsCommand,
    uow: FulfillmentUnitOfWork,
    *,
    topology: Topology,
    metrics: FulfillmentMetrics,
    carrier_book: CarrierBook,
    test_failures: bool = False,
) -> None:
    """One shipment per warehouse, carrier by rule, tracking number by carrier sequence."""
    if not cmd.order_id:
        # Nobody could match a reply to it: let the consumer dead-letter the message instead.
        raise InvalidArgument("CreateShipmentsCommand without order_id", {"order_id": "missing"})
    now = _now()
    items = messages.items_from_proto(cmd)
    address = messages.address_from_proto(cmd.address) if cmd.HasField("address") else None
    reason = planning.rejection_reason(items, address, test_failures=test_failures)
    plan: list[planning.Parcel] = []
    carriers: dict[str, str] = {}
    if reason is None and address is not None:
        plan = planning.parcels(items)
        try:
            carriers = await _choose_carriers(
                uow, carrier_book, plan, address.province, cmd.carrier
            )
        except NoCarrier as exc:
            reason = exc.message

    status = "rejected" if reason else "created"
    if not await uow.orders.claim(cmd.order_id, cmd.saga_id, status, reason or ""):
        await _reply_again(cmd, uow, topology)
        await uow.commit()
        return
    if reason is not None or address is None:  # no address always comes with a reason
        reason = reason or "address missing"
        uow.outbox.add(
            topology.subject_for(pb.ShipmentsRejected),
            pb.ShipmentsRejected(saga_id=cmd.saga_id, order_id=cmd.order_id, reason=reason),
        )
        await uow.commit()
        metrics.rejected.inc()
        _log.info("shipments rejected", order_id=cmd.order_id, reason=reason)
        return

    shipments = [
        Shipment.create(
            id=new_id(),
            order_id=cmd.order_id,
            warehouse=parcel.warehouse,
            carrier=carriers[parcel.warehouse],
            tracking_number=await uow.shipments.next_tracking_number(carriers[parcel.warehouse]),
            lines=parcel.lines,
            weight_grams=parcel.weight_grams,
            address=address,
            actor=SAGA_ACTOR,
            at=now,
        )
        for parcel in plan
    ]
    await uow.shipments.add(shipments)
    reply = pb.ShipmentsCreated(
        saga_id=cmd.saga_id,
        order_id=cmd.order_id,
        shipments=[messages.shipment_to_proto(s) for s in shipments],
    )
    uow.outbox.add(topology.subject_for(reply), reply)
    await uow.commit()
    for shipment in shipments:
        metrics.created.labels(shipment.carrier).inc()
        metrics.parcel_weight.observe(shipment.weight_grams)


async def _choose_carriers(
    uow: FulfillmentUnitOfWork,
    book: CarrierBook,
    plan: list[planning.Parcel],
    destination: str,
    preferred: str = "",
) -> dict[str, str]:
    """Carrier per warehouse, by the rules in the database (`NoCarrier` if none matches)."""
    tables = await book.tables(uow)
    return {
        parcel.warehouse: choose_carrier(
            tables.rules,
            destination=destination,
            warehouse=parcel.warehouse,
            warehouse_regions=tables.warehouse_regions,
            weight_grams=parcel.weight_grams,
            preferred=preferred,
        )
        for parcel in plan
    }


async def _reply_again(
    cmd: pb.CreateShipmentsCommand, uow: FulfillmentUnitOfWork, topology: Topology
) -> None:
    """A repeated CreateShipments: the same answer as the first time, no new effect."""
    record = await uow.orders.get(cmd.order_id)
    shipments = await uow.shipments.for_order(cmd.order_id)
    reply: pb.ShipmentsCreated | pb.ShipmentsRejected
    if shipments:
        reply = pb.ShipmentsCreated(
            saga_id=cmd.saga_id,
            order_id=cmd.order_id,
            shipments=[messages.shipment_to_proto(s) for s in shipments],
        )
    else:
        reason = record.reason if record and record.status == "rejected" else ""
        reply = pb.ShipmentsRejected(
            saga_id=cmd.saga_id,
            order_id=cmd.order_id,
            reason=reason or "the order's shipments were cancelled before they were created",
        )
    uow.outbox.add(topology.subject_for(reply), reply)
    _log.info("repeated CreateShipments answered again", order_id=cmd.order_id)


async def cancel_shipments(
    cmd: pb.CancelShipmentsCommand,
    uow: FulfillmentUnitOfWork,
    *,
    topology: Topology,
    metrics: FulfillmentMetrics,
) -> None:
    """Compensation: cancel every shipment of the order not yet handed to a carrier.

    Dispatched shipments are left alone (the order service refuses to cancel after dispatch, so
    this is a safety net); the reply is sent either way so the saga can finish compensating.
    """
    now = _now()
    await uow.orders.cancel(cmd.order_id, cmd.saga_id, cmd.reason)
    shipments = await uow.shipments.for_order(cmd.order_id, for_update=True)
    cancelled = 0
    for shipment in shipments:
        if shipment.cancellable and shipment.cancel(SAGA_ACTOR, now, cmd.reason):
            await uow.shipments.save(shipment)
            cancelled += 1
    gone = [
        s.id for s in shipments if s.status in (ShipmentStatus.DISPATCHED, ShipmentStatus.DELIVERED)
    ]
    if gone:
        _log.warning(
            "shipments already dispatched were not cancelled",
            order_id=cmd.order_id,
            shipment_ids=gone,
            reason=cmd.reason,
        )
    reply = pb.ShipmentsCancelled(saga_id=cmd.saga_id, order_id=cmd.order_id)
    uow.outbox.add(topology.subject_for(reply), reply)
    await uow.commit()
    if cancelled:
        metrics.cancelled.inc(cancelled)


async def dispatch_shipment(
    cmd: commands.DispatchShipment,
    uow: FulfillmentUnitOfWork,
    *,
    topology: Topology,
    metrics: FulfillmentMetrics,
) -> Shipment:
    """Hand a shipment to its carrier; a repeat returns it unchanged and emits nothing."""
    async with uow:
        shipment = await uow.shipments.get(cmd.shipment_id, for_update=True)
        if shipment is None:
            raise ShipmentNotFound(cmd.shipment_id)
        carrier_changed = cmd.carrier and cmd.carrier != shipment.carrier
        if carrier_changed and not await uow.carriers.exists(cmd.carrier):
            raise UnknownCarrier(cmd.carrier)
        if not shipment.dispatch(
            cmd.actor, _now(), carrier=cmd.carrier, tracking_number=cmd.tracking_number
        ):
            return shipment
        await uow.shipments.save(shipment)
        _publish_events(shipment, uow, topology)
        await uow.commit()
    metrics.dispatched.labels(shipment.carrier).inc()
    return shipment


async def confirm_delivery(
    cmd: commands.ConfirmDelivery,
    uow: FulfillmentUnitOfWork,
    *,
    topology: Topology,
    metrics: FulfillmentMetrics,
) -> Shipment:
    """Record delivery of a dispatched shipment; a repeat returns it unchanged."""
    async with uow:
        shipment = await uow.shipments.get(cmd.shipment_id, for_update=True)
        if shipment is None:
            raise ShipmentNotFound(cmd.shipment_id)
        if not shipment.deliver(cmd.actor, cmd.delivered_at or _now()):
            return shipment
        await uow.shipments.save(shipment)
        _publish_events(shipment, uow, topology)
        await uow.commit()
    metrics.delivered.labels(shipment.carrier).inc()
    return shipment


async def get_shipment(shipment_id: str, uow: FulfillmentUnitOfWork) -> Shipment:
    async with uow:
        shipment = await uow.shipments.get(shipment_id)
    if shipment is None:
        raise ShipmentNotFound(shipment_id)
    return shipment


async def list_shipments(order_id: str, uow: FulfillmentUnitOfWork) -> list[Shipment]:
    async with uow:
        return await uow.shipments.for_order(order_id)


def _publish_events(shipment: Shipment, uow: FulfillmentUnitOfWork, topology: Topology) -> None:
    for event in shipment.events:
        message = messages.event_to_proto(event)
        uow.outbox.add(topology.subject_for(message), message)
    shipment.events.clear()
