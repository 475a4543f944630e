"""The fulfillment service end to end: saga commands over JetStream, warehouse calls over gRPC."""

from __future__ import annotations

import asyncio
import re
import urllib.request

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2 as pb
from surge_platform.ids import new_id

from tests.integration.fulfillment.conftest import Fulfillment, create_command
from tests.support import wait_until

pytestmark = pytest.mark.integration

TWO_WAREHOUSES = [
    ("TEA-LONGJING", "HZ-01", 2, 500),
    ("TEA-PUER", "HZ-01", 1, 357),
    ("CUP-CELADON", "SH-01", 4, 1_200),
]


async def created_order(service: Fulfillment) -> pb.ShipmentsCreated:
    order_id = new_id()
    await service.send(create_command(order_id, TWO_WAREHOUSES))
    (reply,) = await service.events.wait_for(pb.ShipmentsCreated, order_id)
    assert isinstance(reply, pb.ShipmentsCreated)
    return reply


async def test_create_shipments_replies_one_shipment_per_warehouse_with_tracking_numbers(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    reply = await created_order(service)

    by_warehouse = {s.warehouse: s for s in reply.shipments}
    assert set(by_warehouse) == {"HZ-01", "SH-01"}
    hangzhou, shanghai = by_warehouse["HZ-01"], by_warehouse["SH-01"]
    assert {(line.sku, line.quantity) for line in hangzhou.lines} == {
        ("TEA-LONGJING", 2),
        ("TEA-PUER", 1),
    }
    assert hangzhou.weight_grams == 857
    assert shanghai.weight_grams == 1_200
    # Zhejiang destination: same province as HZ-01 -> ZTO; Shanghai warehouse -> default SF.
    assert hangzhou.carrier == "ZTO"
    assert re.fullmatch(r"ZTO\d{12}", hangzhou.tracking_number)
    assert shanghai.carrier == "SF"
    assert re.fullmatch(r"SF\d{12}", shanghai.tracking_number)
    assert all(s.status == pb.SHIPMENT_STATUS_CREATED for s in reply.shipments)

    listed = await service.stub.ListShipments(
        pb.ListShipmentsRequest(order_id=reply.order_id), timeout=5
    )
    assert {s.id for s in listed.shipments} == {s.id for s in reply.shipments}
    got = await service.stub.GetShipment(pb.GetShipmentRequest(shipment_id=hangzhou.id), timeout=5)
    assert got.shipment == hangzhou


async def test_repeated_create_command_replies_the_same_shipments_and_creates_nothing_new(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    order_id = new_id()
    command = create_command(order_id, TWO_WAREHOUSES)
    await service.send(command)
    await service.events.wait_for(pb.ShipmentsCreated, order_id)
    await service.send(command)  # the sweeper's retry: same order, new message id

    first, second = await service.events.wait_for(pb.ShipmentsCreated, order_id, count=2)
    assert isinstance(first, pb.ShipmentsCreated)
    assert isinstance(second, pb.ShipmentsCreated)
    assert [(s.id, s.tracking_number) for s in first.shipments] == [
        (s.id, s.tracking_number) for s in second.shipments
    ]
    assert (
        await service.scalar("SELECT count(*) FROM shipments WHERE order_id = :o", o=order_id) == 2
    )
    assert len(await service.published(pb.ShipmentsCreated, order_id)) == 2


async def test_duplicate_create_commands_handled_concurrently_create_one_set_of_shipments(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    order_id = new_id()
    command = create_command(order_id, TWO_WAREHOUSES)

    # Published back to back, they land in one fetched batch and are handled concurrently.
    await asyncio.gather(*(service.send(command) for _ in range(4)))

    replies = await service.events.wait_for(pb.ShipmentsCreated, order_id, count=4)
    created = [r for r in replies if isinstance(r, pb.ShipmentsCreated)]
    assert len({tuple(s.id for s in r.shipments) for r in created}) == 1
    assert (
        await service.scalar("SELECT count(*) FROM shipments WHERE order_id = :o", o=order_id) == 2
    )


async def test_cancel_before_dispatch_cancels_every_shipment_and_a_repeat_is_harmless(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    reply = await created_order(service)
    cancel = pb.CancelShipmentsCommand(
        saga_id=reply.saga_id, order_id=reply.order_id, reason="invoice rejected"
    )

    await service.send(cancel)
    await service.events.wait_for(pb.ShipmentsCancelled, reply.order_id)
    await service.send(cancel)
    await service.events.wait_for(pb.ShipmentsCancelled, reply.order_id, count=2)

    listed = await service.stub.ListShipments(
        pb.ListShipmentsRequest(order_id=reply.order_id), timeout=5
    )
    assert [s.status for s in listed.shipments] == [pb.SHIPMENT_STATUS_CANCELLED] * 2
    assert (
        await service.scalar(
            "SELECT count(*) FROM shipment_events e JOIN shipments s ON s.id = e.shipment_id "
            "WHERE s.order_id = :o AND e.to_status = 'cancelled' AND e.reason = 'invoice rejected'",
            o=reply.order_id,
        )
        == 2
    )


async def test_dispatch_emits_shipment_dispatched_once_even_when_called_twice(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    shipment = (await created_order(service)).shipments[0]
    request = pb.DispatchShipmentRequest(shipment_id=shipment.id, actor="picker-7")

    first = await service.stub.DispatchShipment(request, timeout=5)
    again = await service.stub.DispatchShipment(request, timeout=5)

    assert first.shipment.status == pb.SHIPMENT_STATUS_DISPATCHED
    assert first.shipment.HasField("dispatched_at")
    assert again.shipment == first.shipment
    (event,) = await service.events.wait_for(pb.ShipmentDispatched, shipment.order_id)
    assert isinstance(event, pb.ShipmentDispatched)
    assert event.shipment_id == shipment.id
    assert event.tracking_number == shipment.tracking_number
    assert len(await service.published(pb.ShipmentDispatched, shipment.order_id)) == 1
    # Dispatch straight from CREATED records the skipped scanning steps in the audit log.
    assert await service.scalar(
        "SELECT string_agg(coalesce(from_status, '-') || '>' || to_status || '@' || actor, ' ' "
        "ORDER BY id) FROM shipment_events WHERE shipment_id = :s",
        s=shipment.id,
    ) == (
        "->created@order-saga created>picked@picker-7 picked>packed@picker-7 "
        "packed>dispatched@picker-7"
    )


async def test_confirm_delivery_emits_shipment_delivered(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    shipment = (await created_order(service)).shipments[0]
    await service.stub.DispatchShipment(
        pb.DispatchShipmentRequest(shipment_id=shipment.id, actor="picker-7"), timeout=5
    )

    delivered = await service.stub.ConfirmDelivery(
        pb.ConfirmDeliveryRequest(shipment_id=shipment.id, actor="carrier-webhook"), timeout=5
    )
    repeated = await service.stub.ConfirmDelivery(
        pb.ConfirmDeliveryRequest(shipment_id=shipment.id, actor="carrier-webhook"), timeout=5
    )

    assert delivered.shipment.status == pb.SHIPMENT_STATUS_DELIVERED
    assert repeated.shipment == delivered.shipment
    (event,) = await service.events.wait_for(pb.ShipmentDelivered, shipment.order_id)
    assert isinstance(event, pb.ShipmentDelivered)
    assert event.shipment_id == shipment.id
    assert event.delivered_at == delivered.shipment.delivered_at
    assert len(await service.published(pb.ShipmentDelivered, shipment.order_id)) == 1


async def test_cancel_after_dispatch_leaves_the_dispatched_shipment_untouched(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    reply = await created_order(service)
    dispatched, other = reply.shipments
    await service.stub.DispatchShipment(
        pb.DispatchShipmentRequest(shipment_id=dispatched.id, actor="picker-7"), timeout=5
    )

    await service.send(pb.CancelShipmentsCommand(saga_id=reply.saga_id, order_id=reply.order_id))
    await service.events.wait_for(pb.ShipmentsCancelled, reply.order_id)

    listed = await service.stub.ListShipments(
        pb.ListShipmentsRequest(order_id=reply.order_id), timeout=5
    )
    status = {s.id: s.status for s in listed.shipments}
    assert status == {
        dispatched.id: pb.SHIPMENT_STATUS_DISPATCHED,
        other.id: pb.SHIPMENT_STATUS_CANCELLED,
    }


async def test_dispatching_a_cancelled_shipment_fails_precondition(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    reply = await created_order(service)
    await service.send(pb.CancelShipmentsCommand(saga_id=reply.saga_id, order_id=reply.order_id))
    await service.events.wait_for(pb.ShipmentsCancelled, reply.order_id)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.stub.DispatchShipment(
            pb.DispatchShipmentRequest(shipment_id=reply.shipments[0].id), timeout=5
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await service.stub.DispatchShipment(
            pb.DispatchShipmentRequest(shipment_id=new_id()), timeout=5
        )
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert await service.published(pb.ShipmentDispatched, reply.order_id) == []


async def test_fail_ship_sku_is_rejected_when_the_test_hook_is_enabled(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    order_id = new_id()
    failing_sku = f"FAIL-SHIP-{new_id()}"
    await service.send(
        create_command(order_id, [("TEA-LONGJING", "HZ-01", 1, 250), (failing_sku, "HZ-01", 1, 10)])
    )

    (rejected,) = await service.events.wait_for(pb.ShipmentsRejected, order_id)
    assert isinstance(rejected, pb.ShipmentsRejected)
    assert failing_sku in rejected.reason
    listed = await service.stub.ListShipments(pb.ListShipmentsRequest(order_id=order_id), timeout=5)
    assert list(listed.shipments) == []


async def test_fail_ship_sku_ships_normally_when_the_test_hook_is_disabled(
    fulfillment_without_test_hook: Fulfillment,
) -> None:
    service = fulfillment_without_test_hook
    order_id = new_id()
    await service.send(create_command(order_id, [(f"FAIL-SHIP-{new_id()}", "HZ-01", 1, 10)]))

    (created,) = await service.events.wait_for(pb.ShipmentsCreated, order_id)
    assert isinstance(created, pb.ShipmentsCreated)
    assert len(created.shipments) == 1
    assert await service.published(pb.ShipmentsRejected, order_id) == []


async def test_seeded_carrier_rules_send_heavy_parcels_by_debang_and_remote_ones_by_ems(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    heavy, remote = new_id(), new_id()
    await service.send(create_command(heavy, [("KETTLE-CAST-IRON", "SH-01", 5, 22_000)]))
    urumqi = common_pb2.Address(
        province="Xinjiang", city="Urumqi", district="Tianshan", line1="1 Renmin Road"
    )
    await service.send(create_command(remote, [("TEA-PUER", "HZ-01", 1, 357)], urumqi))

    (heavy_reply,) = await service.events.wait_for(pb.ShipmentsCreated, heavy)
    (remote_reply,) = await service.events.wait_for(pb.ShipmentsCreated, remote)
    assert isinstance(heavy_reply, pb.ShipmentsCreated)
    assert isinstance(remote_reply, pb.ShipmentsCreated)
    (heavy_parcel,) = heavy_reply.shipments
    (remote_parcel,) = remote_reply.shipments
    assert heavy_parcel.carrier == "DEBANG"
    assert re.fullmatch(r"DPK\d{12}", heavy_parcel.tracking_number)
    assert remote_parcel.carrier == "EMS"
    assert re.fullmatch(r"EMS\d{12}", remote_parcel.tracking_number)


async def test_a_request_without_items_is_rejected_and_a_repeat_gets_the_same_answer(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    order_id = new_id()
    command = create_command(order_id, [])

    await service.send(command)
    await service.send(command)

    first, second = await service.events.wait_for(pb.ShipmentsRejected, order_id, count=2)
    assert isinstance(first, pb.ShipmentsRejected)
    assert isinstance(second, pb.ShipmentsRejected)
    assert first.reason == second.reason == "no items to ship"
    assert await service.published(pb.ShipmentsCreated, order_id) == []


async def test_a_create_arriving_after_its_cancellation_creates_no_shipment(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    order_id = new_id()
    await service.send(pb.CancelShipmentsCommand(saga_id=new_id(), order_id=order_id))
    await service.events.wait_for(pb.ShipmentsCancelled, order_id)

    await service.send(create_command(order_id, TWO_WAREHOUSES))

    (rejected,) = await service.events.wait_for(pb.ShipmentsRejected, order_id)
    assert isinstance(rejected, pb.ShipmentsRejected)
    assert "cancelled" in rejected.reason
    listed = await service.stub.ListShipments(pb.ListShipmentsRequest(order_id=order_id), timeout=5)
    assert list(listed.shipments) == []


async def test_dispatch_may_override_the_carrier_but_only_with_a_known_one(
    fulfillment: Fulfillment,
) -> None:
    service = fulfillment
    shipment = (await created_order(service)).shipments[0]
    tracking = f"EMS{new_id()[-12:]}"

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await service.stub.DispatchShipment(
            pb.DispatchShipmentRequest(shipment_id=shipment.id, carrier="ACME"), timeout=5
        )
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    dispatched = await service.stub.DispatchShipment(
        pb.DispatchShipmentRequest(
            shipment_id=shipment.id, carrier="EMS", tracking_number=tracking
        ),
        timeout=5,
    )

    assert (dispatched.shipment.carrier, dispatched.shipment.tracking_number) == ("EMS", tracking)
    (event,) = await service.events.wait_for(pb.ShipmentDispatched, shipment.order_id)
    assert isinstance(event, pb.ShipmentDispatched)
    assert (event.carrier, event.tracking_number) == ("EMS", tracking)


async def test_metrics_count_shipments_by_carrier(fulfillment: Fulfillment) -> None:
    service = fulfillment

    def sample(name: str, carrier: str) -> float:
        families = text_string_to_metric_families(
            urllib.request.urlopen(service.process.metrics_url, timeout=5).read().decode()
        )
        for family in families:
            for s in family.samples:
                if s.name == name and s.labels.get("carrier") == carrier:
                    return float(s.value)
        return 0.0

    async def read(name: str, carrier: str) -> float:
        return await asyncio.to_thread(sample, name, carrier)

    created_before = await read("surge_fulfillment_shipments_created_total", "ZTO")
    dispatched_before = await read("surge_fulfillment_shipments_dispatched_total", "ZTO")
    reply = await created_order(service)
    zto = next(s for s in reply.shipments if s.carrier == "ZTO")
    await service.stub.DispatchShipment(pb.DispatchShipmentRequest(shipment_id=zto.id), timeout=5)

    async def created_counted() -> bool:
        # Counted just after the commit that also queued the reply: allow for that instant.
        return await read("surge_fulfillment_shipments_created_total", "ZTO") == created_before + 1

    await wait_until(created_counted, 5, "the created shipment to be counted")
    assert await read("surge_fulfillment_shipments_dispatched_total", "ZTO") == (
        dispatched_before + 1
    )
