"""From reserved items to parcels: validation, one parcel per warehouse, parcel weight."""

from __future__ import annotations

import pytest
from surge_fulfillment.domain.model import Address, ShipmentLine
from surge_fulfillment.domain.planning import Item, parcels, rejection_reason

ADDRESS = Address("Zhejiang", "Hangzhou", "Xihu", "18 Wensan Road", "310000")


def test_items_are_grouped_into_one_parcel_per_warehouse_with_summed_weight() -> None:
    result = parcels(
        [
            Item("TEA-LONGJING", "HZ-01", 2, 500),
            Item("CUP-CELADON", "SH-01", 4, 1_200),
            Item("TEA-PUER", "HZ-01", 1, 357),
            Item("TEA-LONGJING", "HZ-01", 1, 250),
        ]
    )
    assert [(p.warehouse, p.lines, p.weight_grams) for p in result] == [
        ("HZ-01", (ShipmentLine("TEA-LONGJING", 3), ShipmentLine("TEA-PUER", 1)), 1_107),
        ("SH-01", (ShipmentLine("CUP-CELADON", 4),), 1_200),
    ]


def test_a_valid_request_has_no_rejection_reason() -> None:
    assert rejection_reason([Item("TEA-LONGJING", "HZ-01", 1, 250)], ADDRESS) is None


@pytest.mark.parametrize(
    ("items", "address", "reason"),
    [
        ([], ADDRESS, "no items"),
        ([Item("A", "HZ-01", 1, 1)], None, "address missing"),
        (
            [Item("A", "HZ-01", 1, 1)],
            Address("", "Hangzhou", "", "x", ""),
            "province missing",
        ),
        ([Item("A", "HZ-01", 1, 1)], Address("Zhejiang", "Hangzhou", "", "x", "31"), "6 digits"),
        ([Item("A", "HZ-01", 0, 1)], ADDRESS, "quantity 0"),
        ([Item("A", "", 1, 1)], ADDRESS, "no warehouse"),
        ([Item("A", "HZ-01", 1, -5)], ADDRESS, "negative weight"),
    ],
)
def test_an_unshippable_request_is_rejected_with_a_reason(
    items: list[Item], address: Address | None, reason: str
) -> None:
    found = rejection_reason(items, address)
    assert found is not None
    assert reason in found


def test_fail_ship_skus_are_rejected_only_when_test_failures_are_enabled() -> None:
    items = [Item("TEA-LONGJING", "HZ-01", 1, 250), Item("FAIL-SHIP-abc", "HZ-01", 1, 10)]
    assert rejection_reason(items, ADDRESS, test_failures=False) is None
    reason = rejection_reason(items, ADDRESS, test_failures=True)
    assert reason is not None
    assert "FAIL-SHIP-abc" in reason
