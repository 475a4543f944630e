"""Catalog values, stock allocation and the reservation life cycle.

Allocation (DESIGN.md §4, issue 3): each line goes to a warehouse serving the shipping region if
one can hold the whole line, else to the warehouse with the most available units; a line is split
across warehouses only when no single warehouse can hold it, taking regional warehouses first and
then the fullest. An order is all-or-nothing: one short line rejects the whole order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from surge_inventory.domain.errors import ReservationStateError, UnknownWarehouseForReservation

__all__ = [
    "CODE_PATTERN",
    "MAX_LINE_QUANTITY",
    "Allocated",
    "Allocation",
    "Level",
    "Reservation",
    "ReservationStatus",
    "Shortage",
    "Sku",
    "Warehouse",
    "allocate",
    "merge_lines",
]

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_LINE_QUANTITY = 10_000
MAX_ADJUSTMENT = 1_000_000
MAX_WEIGHT_GRAMS = 1_000_000
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Sku:
    sku: str
    name: str
    unit_price_minor: int
    currency: str
    weight_grams: int
    category: str
    active: bool

    def violations(self) -> dict[str, str]:
        """Field path -> what is wrong; empty when the SKU may be created."""
        found: dict[str, str] = {}
        if not CODE_PATTERN.fullmatch(self.sku):
            found["sku.sku"] = "must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'"
        if not self.name.strip():
            found["sku.name"] = "is required"
        elif len(self.name) > MAX_NAME_LENGTH:
            found["sku.name"] = f"must be at most {MAX_NAME_LENGTH} characters"
        if self.unit_price_minor < 0:
            found["sku.unit_price.amount_minor"] = "must not be negative"
        if not CURRENCY_PATTERN.fullmatch(self.currency):
            found["sku.unit_price.currency"] = "must be an ISO 4217 code such as CNY"
        if not 0 < self.weight_grams <= MAX_WEIGHT_GRAMS:
            found["sku.weight_grams"] = f"must be between 1 and {MAX_WEIGHT_GRAMS}"
        if not self.category.strip():
            found["sku.category"] = "is required"
        elif len(self.category) > 64:
            found["sku.category"] = "must be at most 64 characters"
        return found


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str
    region: str


def adjustment_violations(sku: str, warehouse: str, quantity: int, reason: str) -> dict[str, str]:
    """Field path -> what is wrong with an AdjustStock request; empty when it is well formed."""
    found: dict[str, str] = {}
    if not CODE_PATTERN.fullmatch(sku):
        found["sku"] = "must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'"
    if not warehouse.strip():
        found["warehouse"] = "is required"
    if quantity == 0:
        found["quantity"] = "must not be zero"
    elif abs(quantity) > MAX_ADJUSTMENT:
        found["quantity"] = f"must be between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}"
    if not reason.strip():
        found["reason"] = "is required"
    elif len(reason) > 500:
        found["reason"] = "must be at most 500 characters"
    return found


@dataclass(frozen=True)
class Level:
    """Units of one SKU that can still be reserved in one warehouse."""

    sku: str
    warehouse: str
    region: str
    available: int


@dataclass(frozen=True, order=True)
class Allocation:
    sku: str
    warehouse: str
    quantity: int


@dataclass(frozen=True)
class Allocated:
    """Every line fits; allocations are ordered by (sku, warehouse), the lock order."""

    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class Shortage:
    """The SKUs that cannot be held in full (the order is rejected as a whole)."""

    skus: tuple[str, ...]


def merge_lines(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantities per SKU, in first-seen order (a repeated SKU adds up)."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, 0) + quantity
    return merged


def allocate(
    wanted: Mapping[str, int], region: str, levels: Iterable[Level], preferred: str = ""
) -> Allocated | Shortage:
    """Choose where every wanted unit comes from, or name the SKUs that fall short.

    `preferred` (an order rule's ROUTE_WAREHOUSE) serves each line it can hold whole; the
    others are allocated as usual.
    """
    by_sku: dict[str, list[Level]] = {}
    for level in levels:
        by_sku.setdefault(level.sku, []).append(level)
    allocations: list[Allocation] = []
    short: list[str] = []
    for sku, quantity in wanted.items():
        picked = _allocate_line(sku, quantity, region, by_sku.get(sku, []), preferred)
        if picked is None:
            short.append(sku)
        else:
            allocations.extend(picked)
    if short:
        return Shortage(tuple(short))
    return Allocated(tuple(sorted(allocations)))


def _allocate_line(
    sku: str, quantity: int, region: str, levels: Sequence[Level], preferred: str = ""
) -> list[Allocation] | None:
    if preferred and any(lv.warehouse == preferred and lv.available >= quantity for lv in levels):
        return [Allocation(sku, preferred, quantity)]
    candidates = [level for level in levels if level.available > 0]
    if sum(level.available for level in candidates) < quantity:
        return None
    # Regional warehouses first; within each group the fullest first, then by code for a
    # deterministic choice.
    candidates.sort(key=lambda lv: (lv.region != region, -lv.available, lv.warehouse))
    regional = [lv for lv in candidates if lv.region == region]
    for level in regional:
        if level.available >= quantity:
            return [Allocation(sku, level.warehouse, quantity)]
    fullest = max(candidates, key=lambda lv: (lv.available, _reverse_code(lv.warehouse)))
    if fullest.available >= quantity:
        return [Allocation(sku, fullest.warehouse, quantity)]
    picked: list[Allocation] = []
    remaining = quantity
    for level in candidates:
        take = min(level.available, remaining)
        picked.append(Allocation(sku, level.warehouse, take))
        remaining -= take
        if remaining == 0:
            break
    return picked


def _reverse_code(code: str) -> tuple[int, ...]:
    # max() with ties broken towards the smallest warehouse code.
    return tuple(-ord(ch) for ch in code)


class ReservationStatus(StrEnum):
    HELD = "held"
    COMMITTED = "committed"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"
    # Not a reservation: the remembered outcome of a rejected ReserveStock, so a repeated
    # command gets the same answer. Never shown by GetReservation.
    REJECTED = "rejected"


LIVE = frozenset({ReservationStatus.HELD, ReservationStatus.COMMITTED})


@dataclass(eq=False)
class Reservation:
    id: str
    order_id: str
    saga_id: str
    status: ReservationStatus
    allocations: tuple[Allocation, ...]
    expires_at: datetime
    created_at: datetime
    # Warehouse -> shipment id of the dispatches already applied.
    confirmed: dict[str, str] = field(default_factory=dict)
    reject_reason: str = ""
    unavailable_skus: tuple[str, ...] = ()

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    def commit(self) -> bool:
        """Stop the hold from expiring; False when it already was committed (or dispatched)."""
        if self.status is ReservationStatus.HELD:
            self.status = ReservationStatus.COMMITTED
            return True
        if self.status in (ReservationStatus.COMMITTED, ReservationStatus.CONFIRMED):
            return False
        raise ReservationStateError(self.id, self.status, ReservationStatus.COMMITTED)

    def release(self) -> tuple[Allocation, ...]:
        """Give back what is still held; returns those units (none if nothing is held)."""
        if not self.is_live:
            return ()
        self.status = ReservationStatus.RELEASED
        return self.undispatched()

    def expire(self) -> tuple[Allocation, ...]:
        if self.status is not ReservationStatus.HELD:
            raise ReservationStateError(self.id, self.status, ReservationStatus.EXPIRED)
        self.status = ReservationStatus.EXPIRED
        return self.undispatched()

    def confirm(self, warehouse: str, shipment_id: str) -> tuple[Allocation, ...]:
        """Record the dispatch from `warehouse`; returns the units that leave on_hand.

        A warehouse already confirmed returns nothing (the repeat is a no-op). A dispatch means
        the order moved on, so a HELD reservation stops expiring; when every warehouse is
        confirmed the reservation is CONFIRMED.
        """
        if warehouse in self.confirmed:
            return ()
        if not self.is_live:
            raise ReservationStateError(self.id, self.status, ReservationStatus.CONFIRMED)
        leaving = tuple(a for a in self.allocations if a.warehouse == warehouse)
        if not leaving:
            raise UnknownWarehouseForReservation(self.order_id, warehouse)
        self.confirmed[warehouse] = shipment_id
        self.status = ReservationStatus.COMMITTED
        if {a.warehouse for a in self.allocations} <= set(self.confirmed):
            self.status = ReservationStatus.CONFIRMED
        return leaving

    def undispatched(self) -> tuple[Allocation, ...]:
        return tuple(a for a in self.allocations if a.warehouse not in self.confirmed)
