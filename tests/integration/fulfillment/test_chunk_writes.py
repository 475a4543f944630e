"""A group commit of CreateShipments reads ahead which orders are new and writes their claims,
shipments and audit rows with one statement, with the outcome of one transaction per command:
a repeat in the same batch gets the first answer, a cancel in the same batch cancels what the
batch created, an order created before the batch is answered again."""

from __future__ import annotations

import re

import pytest
from google.protobuf.message import Message
from prometheus_client import CollectorRegistry
from surge.fulfillment.v1 import fulfillment_pb2 as pb
from surge_fulfillment.adapters.metrics import FulfillmentMetrics
from surge_fulfillment.adapters.writes import TrackingNumbers, read_chunk
from surge_fulfillment.service_layer import handlers
from surge_fulfillment.service_layer.carrier_book import CarrierBook
from surge_fulfillment.service_layer.unit_of_work import FulfillmentUnitOfWork
from surge_platform.db import batch_transaction, create_engine, on_chunk
from surge_platform.ids import new_id

from tests.integration.fulfillment.conftest import Fulfillment, create_command

pytestmark = pytest.mark.integration

TWO_WAREHOUSES = [("TEA-LONGJING", "HZ-01", 2, 500), ("CUP-CELADON", "SH-01", 4, 1_200)]


def shipments_of(reply: Message) -> list[tuple[str, str, str]]:
    assert isinstance(reply, pb.ShipmentsCreated)
    return [(s.id, s.warehouse, s.tracking_number) for s in reply.shipments]


async def test_a_batch_of_creates_and_cancels_ends_as_one_transaction_per_command_would(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    before = create_command(new_id(), TWO_WAREHOUSES)
    await service.send(before)
    [first_answer] = await service.events.wait_for(pb.ShipmentsCreated, before.order_id)

    created, cancelled = (create_command(new_id(), TWO_WAREHOUSES) for _ in range(2))
    failing = create_command(new_id(), [("FAIL-SHIP-X", "HZ-01", 1, 100)])
    chunk: list[Message] = [
        created,
        cancelled,
        created,  # a repeat (new message id): the same answer, no second shipments
        pb.CancelShipmentsCommand(saga_id="s", order_id=cancelled.order_id, reason="void"),
        failing,
        before,
    ]
    engine = create_engine(service.engine.url.render_as_string(hide_password=False), pool_size=2)
    on_chunk(engine, read_chunk)
    metrics = FulfillmentMetrics(CollectorRegistry())
    tracking = TrackingNumbers(block=3)
    try:
        async with batch_transaction(engine) as batch:
            await batch.before_handlers(chunk)
            for command in chunk:
                async with FulfillmentUnitOfWork(engine, tracking) as uow:
                    if isinstance(command, pb.CancelShipmentsCommand):
                        await handlers.cancel_shipments(
                            command, uow, topology=service.topology, metrics=metrics
                        )
                    else:
                        assert isinstance(command, pb.CreateShipmentsCommand)
                        await handlers.create_shipments(
                            command,
                            uow,
                            topology=service.topology,
                            metrics=metrics,
                            carrier_book=CarrierBook(0),
                            test_failures=True,
                        )
    finally:
        await engine.dispose()

    answers = await service.published(pb.ShipmentsCreated, created.order_id)
    assert len(answers) == 2
    assert shipments_of(answers[0]) == shipments_of(answers[1])
    assert len(shipments_of(answers[0])) == 2
    again = await service.published(pb.ShipmentsCreated, before.order_id)
    assert [shipments_of(a) for a in again] == [shipments_of(first_answer)] * 2
    assert await service.published(pb.ShipmentsCancelled, cancelled.order_id)
    [rejected] = await service.published(pb.ShipmentsRejected, failing.order_id)
    assert isinstance(rejected, pb.ShipmentsRejected)
    assert "FAIL-SHIP-" in rejected.reason

    count = "SELECT count(*) FROM shipments WHERE order_id = :o AND status = :s"
    assert await service.scalar(count, o=created.order_id, s="created") == 2
    assert await service.scalar(count, o=cancelled.order_id, s="cancelled") == 2
    assert await service.scalar(count, o=failing.order_id, s="created") == 0
    audit = (
        "SELECT count(*) FROM shipment_events e JOIN shipments s ON s.id = e.shipment_id "
        "WHERE s.order_id = :o"
    )
    assert await service.scalar(audit, o=created.order_id) == 2  # created, per shipment
    assert await service.scalar(audit, o=cancelled.order_id) == 4  # created, then cancelled
    record = "SELECT status FROM fulfillment_orders WHERE order_id = :o"
    assert await service.scalar(record, o=cancelled.order_id) == "cancelled"
    assert await service.scalar(record, o=failing.order_id) == "rejected"
    numbers = [t for _, _, t in shipments_of(answers[0])]
    assert all(re.fullmatch(r"(ZTO|SF)\d{12}", n) for n in numbers)
    distinct = "SELECT count(DISTINCT tracking_number) = count(*) FROM shipments"
    assert await service.scalar(distinct) is True
