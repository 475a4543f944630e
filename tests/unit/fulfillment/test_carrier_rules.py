"""Carrier choice by destination region and parcel weight, first matching rule by priority."""

from __future__ import annotations

import pytest
from surge_fulfillment.domain.carriers import CarrierRule, NoCarrier, choose_carrier

# The same rules the first migration seeds.
RULES = [
    CarrierRule(1000, "*", "SF"),
    CarrierRule(30, "=origin", "ZTO"),
    CarrierRule(20, "Xinjiang", "EMS"),
    CarrierRule(20, "Xizang", "EMS"),
    CarrierRule(20, "Tibet", "EMS"),
    CarrierRule(20, "Qinghai", "EMS"),
    CarrierRule(10, "*", "DEBANG", min_weight_grams=20_001),
]
REGIONS = {"HZ-01": "Zhejiang", "SH-01": "Shanghai"}


def carrier_for(destination: str, weight: int, warehouse: str = "SH-01") -> str:
    return choose_carrier(
        RULES,
        destination=destination,
        warehouse=warehouse,
        warehouse_regions=REGIONS,
        weight_grams=weight,
    )


@pytest.mark.parametrize(
    ("destination", "warehouse", "weight", "carrier"),
    [
        ("Guangdong", "SH-01", 1_000, "SF"),
        ("Shanghai", "SH-01", 1_000, "ZTO"),
        ("zhejiang", "HZ-01", 1_000, "ZTO"),
        ("Xinjiang", "SH-01", 1_000, "EMS"),
        ("Tibet", "HZ-01", 20_000, "EMS"),
        ("Guangdong", "SH-01", 20_001, "DEBANG"),
        ("Xinjiang", "SH-01", 25_000, "DEBANG"),
        ("Shanghai", "SH-01", 30_000, "DEBANG"),
        ("Shanghai", "XX-99", 1_000, "SF"),
    ],
)
def test_carrier_follows_region_and_weight_rules(
    destination: str, warehouse: str, weight: int, carrier: str
) -> None:
    assert carrier_for(destination, weight, warehouse) == carrier


def test_weight_bounds_are_inclusive() -> None:
    rules = [CarrierRule(1, "*", "LIGHT", 0, 999), CarrierRule(2, "*", "HEAVY", 1_000)]

    def choose(weight: int) -> str:
        return choose_carrier(
            rules,
            destination="Beijing",
            warehouse="BJ-01",
            warehouse_regions={},
            weight_grams=weight,
        )

    assert choose(999) == "LIGHT"
    assert choose(1_000) == "HEAVY"


def test_no_matching_rule_is_a_failed_precondition() -> None:
    with pytest.raises(NoCarrier):
        choose_carrier(
            [CarrierRule(1, "Xinjiang", "EMS")],
            destination="Beijing",
            warehouse="BJ-01",
            warehouse_regions={},
            weight_grams=10,
        )
