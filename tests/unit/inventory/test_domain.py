"""Allocation, catalog validation and the reservation life cycle, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from surge_inventory.domain import model
from surge_inventory.domain.errors import ReservationStateError, UnknownWarehouseForReservation
from surge_inventory.domain.model import Allocated, Allocation, Level, ReservationStatus, Shortage

LEVELS = (
    Level("TEA", "SH", "Shanghai", 5),
    Level("TEA", "GZ", "Guangdong", 50),
    Level("TEA", "BJ", "Beijing", 10),
    Level("CUP", "SH", "Shanghai", 0),
    Level("CUP", "BJ", "Beijing", 3),
)


def allocated(result: Allocated | Shortage) -> list[tuple[str, str, int]]:
    assert isinstance(result, Allocated)
    return [(a.sku, a.warehouse, a.quantity) for a in result.allocations]


def test_a_regional_warehouse_that_can_hold_the_line_gets_it() -> None:
    assert allocated(model.allocate({"TEA": 5}, "Shanghai", LEVELS)) == [("TEA", "SH", 5)]


def test_without_a_regional_fit_the_fullest_warehouse_gets_the_whole_line() -> None:
    assert allocated(model.allocate({"TEA": 6}, "Shanghai", LEVELS)) == [("TEA", "GZ", 6)]
    assert allocated(model.allocate({"TEA": 1}, "Tibet", LEVELS)) == [("TEA", "GZ", 1)]


def test_a_line_is_split_only_when_no_warehouse_can_hold_it_region_first() -> None:
    assert allocated(model.allocate({"TEA": 50}, "Shanghai", LEVELS)) == [("TEA", "GZ", 50)]
    assert allocated(model.allocate({"TEA": 60}, "Shanghai", LEVELS)) == [
        ("TEA", "BJ", 5),
        ("TEA", "GZ", 50),
        ("TEA", "SH", 5),
    ]


def test_ties_between_equally_full_warehouses_go_to_the_smallest_code() -> None:
    levels = [Level("TEA", "ZZ", "X", 9), Level("TEA", "AA", "Y", 9)]
    assert allocated(model.allocate({"TEA": 4}, "Shanghai", levels)) == [("TEA", "AA", 4)]


def test_one_short_line_rejects_the_whole_order_naming_only_that_sku() -> None:
    result = model.allocate({"TEA": 1, "CUP": 4, "MUG": 1}, "Shanghai", LEVELS)
    assert result == Shortage(("CUP", "MUG"))


def test_allocations_come_out_in_lock_order() -> None:
    result = model.allocate({"TEA": 60, "CUP": 3}, "Beijing", LEVELS)
    assert isinstance(result, Allocated)
    assert list(result.allocations) == sorted(result.allocations)


def test_repeated_skus_are_reserved_as_one_line() -> None:
    assert model.merge_lines([("TEA", 2), ("CUP", 1), ("TEA", 3)]) == {"TEA": 5, "CUP": 1}


def new_sku(**changes: object) -> model.Sku:
    fields: dict[str, object] = {
        "sku": "TEA-1",
        "name": "Tea",
        "unit_price_minor": 100,
        "currency": "CNY",
        "weight_grams": 10,
        "category": "tea",
        "active": True,
        **changes,
    }
    return model.Sku(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sku": ""}, "sku.sku"),
        ({"sku": "A" * 65}, "sku.sku"),
        ({"sku": "TEA 1"}, "sku.sku"),
        ({"name": "  "}, "sku.name"),
        ({"unit_price_minor": -1}, "sku.unit_price.amount_minor"),
        ({"currency": "cny"}, "sku.unit_price.currency"),
        ({"weight_grams": 0}, "sku.weight_grams"),
        ({"category": ""}, "sku.category"),
    ],
)
def test_each_bad_sku_field_is_named(changes: dict[str, object], field: str) -> None:
    assert set(new_sku(**changes).violations()) == {field}


def test_a_good_sku_has_no_violations() -> None:
    assert new_sku(sku="A" * 64).violations() == {}


def test_adjustments_need_a_non_zero_quantity_and_a_reason() -> None:
    assert set(model.adjustment_violations("TEA", "SH", 0, " ")) == {"quantity", "reason"}
    assert model.adjustment_violations("TEA", "SH", -3, "damaged") == {}


def reservation(*allocations: Allocation) -> model.Reservation:
    now = datetime.now(UTC)
    return model.Reservation(
        id="r1",
        order_id="o1",
        saga_id="s1",
        status=ReservationStatus.HELD,
        allocations=allocations or (Allocation("TEA", "GZ", 2), Allocation("TEA", "SH", 1)),
        expires_at=now,
        created_at=now,
    )


def status_of(reservation: model.Reservation) -> ReservationStatus:
    return reservation.status


def test_commit_stops_expiry_and_a_repeat_changes_nothing() -> None:
    held = reservation()
    assert held.commit() is True
    assert held.status is ReservationStatus.COMMITTED
    assert held.commit() is False
    with pytest.raises(ReservationStateError):
        held.expire()


def test_release_gives_back_what_is_held_once() -> None:
    held = reservation()
    assert held.release() == held.allocations
    assert held.status is ReservationStatus.RELEASED
    assert held.release() == ()


def test_confirm_dispatches_each_warehouse_once_and_completes_with_the_last() -> None:
    held = reservation()
    assert held.confirm("GZ", "shp-1") == (Allocation("TEA", "GZ", 2),)
    # A dispatch means the order moved on: the rest of the hold no longer expires.
    assert held.confirm("GZ", "shp-1") == ()
    assert held.status is ReservationStatus.COMMITTED
    # A release after a partial dispatch returns only what is still in the warehouse.
    assert held.undispatched() == (Allocation("TEA", "SH", 1),)
    assert held.confirm("SH", "shp-2") == (Allocation("TEA", "SH", 1),)
    assert status_of(held) is ReservationStatus.CONFIRMED


def test_confirm_of_a_warehouse_without_allocations_or_a_dead_reservation_fails() -> None:
    held = reservation()
    with pytest.raises(UnknownWarehouseForReservation):
        held.confirm("BJ", "shp-3")
    held.release()
    with pytest.raises(ReservationStateError):
        held.confirm("GZ", "shp-1")
