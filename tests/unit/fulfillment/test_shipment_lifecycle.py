"""The shipment state machine: what the transition table allows and what it refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from surge_fulfillment.domain import events
from surge_fulfillment.domain.model import (
    TRANSITIONS,
    Address,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    can_transition,
)
from surge_platform.errors import FailedPrecondition, InvalidArgument, InvalidTransition

S = ShipmentStatus
T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)

ALLOWED = {
    (S.CREATED, S.PICKED),
    (S.CREATED, S.CANCELLED),
    (S.PICKED, S.PACKED),
    (S.PICKED, S.CANCELLED),
    (S.PACKED, S.DISPATCHED),
    (S.PACKED, S.CANCELLED),
    (S.DISPATCHED, S.DELIVERED),
}


def new_shipment() -> Shipment:
    return Shipment.create(
        id="0193f0a0-0000-7000-8000-000000000001",
        order_id="order-1",
        warehouse="HZ-01",
        carrier="SF",
        tracking_number="SF000000000001",
        lines=(ShipmentLine("TEA-LONGJING", 2),),
        weight_grams=500,
        address=Address("Zhejiang", "Hangzhou", "Xihu", "18 Wensan Road", "310000"),
        actor="order-saga",
        at=T0,
    )


def shipment_in(status: ShipmentStatus) -> Shipment:
    shipment = new_shipment()
    paths: dict[ShipmentStatus, list[Callable[[str, datetime], object]]] = {
        S.CREATED: [],
        S.PICKED: [shipment.pick],
        S.PACKED: [shipment.pick, shipment.pack],
        S.DISPATCHED: [lambda a, t: shipment.dispatch(a, t)],
        S.DELIVERED: [lambda a, t: shipment.dispatch(a, t), shipment.deliver],
        S.CANCELLED: [shipment.cancel],
    }
    for step in paths[status]:
        step("test", T0)
    assert shipment.status is status
    shipment.changes.clear()
    shipment.events.clear()
    return shipment


def move(shipment: Shipment, to: ShipmentStatus) -> None:
    {
        S.PICKED: shipment.pick,
        S.PACKED: shipment.pack,
        S.DISPATCHED: lambda a, t: shipment.dispatch(a, t),
        S.DELIVERED: shipment.deliver,
        S.CANCELLED: shipment.cancel,
    }[to]("test", T0)


def test_the_transition_table_is_exactly_the_documented_machine() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    assert set(TRANSITIONS) == set(ShipmentStatus)


@pytest.mark.parametrize(("current", "requested"), sorted(ALLOWED))
def test_every_allowed_transition_moves_the_shipment_and_is_audited(
    current: ShipmentStatus, requested: ShipmentStatus
) -> None:
    shipment = shipment_in(current)
    move(shipment, requested)
    assert shipment.status is requested
    assert shipment.changes[-1].from_status is current
    assert shipment.changes[-1].to_status is requested


FORBIDDEN = sorted(
    (a, b)
    for a in ShipmentStatus
    for b in ShipmentStatus
    if (a, b) not in ALLOWED
    and b is not S.CREATED
    and a is not b
    # Dispatch from CREATED/PICKED is allowed: it walks the skipped steps (tested below).
    and not (b is S.DISPATCHED and a in (S.CREATED, S.PICKED))
)


@pytest.mark.parametrize(("current", "requested"), FORBIDDEN)
def test_a_forbidden_transition_raises_invalid_transition_and_changes_nothing(
    current: ShipmentStatus, requested: ShipmentStatus
) -> None:
    shipment = shipment_in(current)
    assert not can_transition(current, requested)
    with pytest.raises(InvalidTransition):
        move(shipment, requested)
    assert shipment.status is current
    assert shipment.changes == []
    assert shipment.events == []


def test_cancelling_after_dispatch_is_refused() -> None:
    shipment = shipment_in(S.DISPATCHED)
    assert not shipment.cancellable
    with pytest.raises(InvalidTransition):
        shipment.cancel("saga", T0)


def test_dispatch_from_created_records_the_skipped_scanning_steps() -> None:
    shipment = new_shipment()
    shipment.changes.clear()
    assert shipment.dispatch("picker-7", T0 + timedelta(hours=1))
    assert [(c.from_status, c.to_status) for c in shipment.changes] == [
        (S.CREATED, S.PICKED),
        (S.PICKED, S.PACKED),
        (S.PACKED, S.DISPATCHED),
    ]
    assert {c.actor for c in shipment.changes} == {"picker-7"}
    assert shipment.dispatched_at == T0 + timedelta(hours=1)
    (event,) = shipment.events
    assert isinstance(event, events.ShipmentDispatched)
    assert event.tracking_number == "SF000000000001"


def test_dispatch_may_override_carrier_and_tracking_number() -> None:
    shipment = shipment_in(S.PACKED)
    shipment.dispatch("picker-7", T0, carrier="EMS", tracking_number="EMS000000000042")
    assert (shipment.carrier, shipment.tracking_number) == ("EMS", "EMS000000000042")
    (event,) = shipment.events
    assert isinstance(event, events.ShipmentDispatched)
    assert (event.carrier, event.tracking_number) == ("EMS", "EMS000000000042")


def test_dispatching_again_changes_nothing_and_emits_nothing() -> None:
    shipment = shipment_in(S.DISPATCHED)
    assert not shipment.dispatch("picker-7", T0, tracking_number="SF000000000001")
    assert shipment.changes == []
    assert shipment.events == []


def test_dispatching_again_with_another_tracking_number_is_refused() -> None:
    shipment = shipment_in(S.DISPATCHED)
    with pytest.raises(FailedPrecondition):
        shipment.dispatch("picker-7", T0, tracking_number="SF999999999999")


def test_confirming_delivery_twice_emits_one_event() -> None:
    shipment = shipment_in(S.DISPATCHED)
    assert shipment.deliver("courier", T0 + timedelta(days=1))
    assert not shipment.deliver("courier", T0 + timedelta(days=2))
    assert shipment.delivered_at == T0 + timedelta(days=1)
    assert [type(e) for e in shipment.events] == [events.ShipmentDelivered]


def test_delivery_before_dispatch_time_is_invalid() -> None:
    shipment = new_shipment()
    shipment.dispatch("picker-7", T0 + timedelta(hours=2))
    with pytest.raises(InvalidArgument):
        shipment.deliver("courier", T0 + timedelta(hours=1))
    assert shipment.status is S.DISPATCHED


def test_cancelling_twice_is_harmless() -> None:
    shipment = new_shipment()
    assert shipment.cancel("saga", T0, "invoice rejected")
    assert not shipment.cancel("saga", T0, "invoice rejected")
    assert [c.reason for c in shipment.changes if c.to_status is S.CANCELLED] == [
        "invoice rejected"
    ]
