"""From a saga command's allocations to parcels: validation and one parcel per warehouse."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from surge_fulfillment.domain.model import Address, ShipmentLine

TEST_FAILURE_SKU_PREFIX = "FAIL-SHIP-"
MAX_UNITS_PER_LINE = 10_000
_POSTAL_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Item:
    """Units of one SKU reserved in one warehouse; `weight_grams` weighs all of them."""

    sku: str
    warehouse: str
    quantity: int
    weight_grams: int


@dataclass(frozen=True)
class Parcel:
    warehouse: str
    lines: tuple[ShipmentLine, ...]
    weight_grams: int


def rejection_reason(
    items: Iterable[Item], address: Address | None, *, test_failures: bool = False
) -> str | None:
    """Why no shipment can be created for this request, or None if it can."""
    items = list(items)
    if not items:
        return "no items to ship"
    if address is None:
        return "address missing"
    missing = [
        name
        for name, value in (
            ("province", address.province),
            ("city", address.city),
            ("line1", address.line1),
        )
        if not value.strip()
    ]
    if missing:
        return f"address incomplete: {', '.join(missing)} missing"
    if address.postal_code and not _POSTAL_CODE.match(address.postal_code):
        return f"address postal code {address.postal_code!r} is not 6 digits"
    for item in items:
        if not item.sku.strip():
            return "item without SKU"
        if not item.warehouse.strip():
            return f"item {item.sku} has no warehouse"
        if not 0 < item.quantity <= MAX_UNITS_PER_LINE:
            return f"item {item.sku} has quantity {item.quantity}"
        if item.weight_grams < 0:
            return f"item {item.sku} has negative weight"
    if test_failures:
        failing = sorted({i.sku for i in items if i.sku.startswith(TEST_FAILURE_SKU_PREFIX)})
        if failing:
            return f"test failure hook: SKU {', '.join(failing)} rejected on purpose"
    return None


def parcels(items: Iterable[Item]) -> list[Parcel]:
    """One parcel per warehouse (in first-seen order), lines of the same SKU merged."""
    quantities: dict[str, dict[str, int]] = {}
    weights: dict[str, int] = {}
    for item in items:
        lines = quantities.setdefault(item.warehouse, {})
        lines[item.sku] = lines.get(item.sku, 0) + item.quantity
        weights[item.warehouse] = weights.get(item.warehouse, 0) + item.weight_grams
    return [
        Parcel(
            warehouse=warehouse,
            lines=tuple(ShipmentLine(sku, quantity) for sku, quantity in lines.items()),
            weight_grams=weights[warehouse],
        )
        for warehouse, lines in quantities.items()
    ]
