"""A CreateShipments that arrives alone (no group commit) claims its order and writes its
shipments and their audit rows with one statement (it was two); a repeat of it writes nothing."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from surge.fulfillment.v1 import fulfillment_pb2 as pb
from surge_fulfillment.adapters.metrics import FulfillmentMetrics
from surge_fulfillment.adapters.writes import TrackingNumbers
from surge_fulfillment.service_layer import handlers
from surge_fulfillment.service_layer.carrier_book import CarrierBook
from surge_fulfillment.service_layer.unit_of_work import FulfillmentUnitOfWork
from surge_platform.ids import new_id

from tests.integration.billing.round_trips import counting_engine
from tests.integration.fulfillment.conftest import Fulfillment, create_command

pytestmark = pytest.mark.integration

TWO_WAREHOUSES = [("TEA-LONGJING", "HZ-01", 2, 500), ("CUP-CELADON", "SH-01", 4, 1_200)]


async def test_creating_shipments_alone_takes_one_statement_and_a_repeat_writes_nothing(
    fulfillment: Fulfillment,
) -> None:
    metrics = FulfillmentMetrics(CollectorRegistry())
    book, tracking = CarrierBook(60), TrackingNumbers()
    command = create_command(new_id(), TWO_WAREHOUSES)
    async with counting_engine(fulfillment.engine) as (engine, statements):

        async def create(cmd: pb.CreateShipmentsCommand) -> None:
            async with FulfillmentUnitOfWork(engine, tracking) as uow:
                await handlers.create_shipments(
                    cmd, uow, topology=fulfillment.topology, metrics=metrics, carrier_book=book
                )

        await create(create_command(new_id(), TWO_WAREHOUSES))  # warm: carriers, tracking block
        statements.clear()
        await create(command)
        own = await statements.of_handler()
        assert len(own) == 1, own
        assert own[0].startswith("WITH claimed AS ( INSERT INTO fulfillment_orders")
        repeat = pb.CreateShipmentsCommand()
        repeat.CopyFrom(command)
        await create(repeat)
    # Both answered (through the relay) with the same shipments, written once.
    first, again = await fulfillment.published(pb.ShipmentsCreated, command.order_id)
    assert isinstance(first, pb.ShipmentsCreated)
    assert isinstance(again, pb.ShipmentsCreated)
    assert len(first.shipments) == 2
    assert list(first.shipments) == list(again.shipments)
    shipments = "SELECT count(*) FROM shipments WHERE order_id = :o"
    assert await fulfillment.scalar(shipments, o=command.order_id) == 2
    audit = (
        "SELECT count(*) FROM shipment_events e JOIN shipments s ON s.id = e.shipment_id "
        "WHERE s.order_id = :o"
    )
    assert await fulfillment.scalar(audit, o=command.order_id) == 2
