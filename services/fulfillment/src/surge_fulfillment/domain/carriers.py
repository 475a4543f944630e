"""Carrier choice: an ordered table of rules on destination region and parcel weight.

The rules are data (the `carrier_rules` table, seeded by the first migration), so operations can
change them without a release. The first matching rule by ascending priority wins.

A rule's `region` is a province name (matched case-insensitively, e.g. "Xinjiang"), `*` for any
destination, or `=origin` (`SAME_REGION`) for a destination in the shipping warehouse's province.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from surge_platform.errors import FailedPrecondition

ANY_REGION = "*"
SAME_REGION = "=origin"


@dataclass(frozen=True)
class CarrierRule:
    priority: int
    region: str
    carrier: str
    min_weight_grams: int = 0
    max_weight_grams: int | None = None

    def matches(self, destination: str, origin: str | None, weight_grams: int) -> bool:
        if weight_grams < self.min_weight_grams:
            return False
        if self.max_weight_grams is not None and weight_grams > self.max_weight_grams:
            return False
        if self.region == ANY_REGION:
            return True
        wanted = _norm(destination)
        if self.region == SAME_REGION:
            return origin is not None and _norm(origin) == wanted
        return _norm(self.region) == wanted


class NoCarrier(FailedPrecondition):
    def __init__(self, destination: str, weight_grams: int) -> None:
        super().__init__(f"no carrier rule matches {destination!r} at {weight_grams} g")


def choose_carrier(
    rules: Iterable[CarrierRule],
    *,
    destination: str,
    warehouse: str,
    warehouse_regions: Mapping[str, str],
    weight_grams: int,
    preferred: str = "",
) -> str:
    """The carrier of the first matching rule; `NoCarrier` if the table has no catch-all.

    `preferred` (an order rule's CHOOSE_CARRIER) wins when the table knows that carrier.
    """
    if preferred and any(rule.carrier == preferred for rule in rules):
        return preferred
    origin = warehouse_regions.get(warehouse)
    for rule in sorted(rules, key=lambda r: r.priority):
        if rule.matches(destination, origin, weight_grams):
            return rule.carrier
    raise NoCarrier(destination, weight_grams)


def _norm(region: str) -> str:
    return region.strip().casefold()
