"""Returns (RMA): the return, its states and steps, and the arithmetic of refunds and restocks.

    requested ─approve─> approved ─receive─> received ─(restock)─> (credit) ─> refunded
        └─reject─> rejected          (refund only: approved ─(credit)─> refunded)
    a refused credit undoes the restock (reverse_restock) and ends in failed.

Refunds follow the order line's final amount `T`, carried by its paid units only: gift units
(buy X get Y) are worth 0 and are taken back first, because keeping the units one paid for is
exactly what the promotion sold. With `g` gift units of `n` and `p = n - g` paid units, the
first `u` units back are worth `V(u) = floor(T*max(0, u - g)/p)`; `k` more units, after `r` units
worth `A` went back in live returns, are worth `max(0, V(r+k) - A)`. So the parts of a line
returned over several returns add up to `T` exactly (the last paid unit takes the remainder) and
never more, even when a return in between is rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from surge_platform.errors import FailedPrecondition, InvalidArgument

__all__ = [
    "LIVE",
    "OPEN",
    "Restock",
    "Return",
    "ReturnKind",
    "ReturnLine",
    "ReturnState",
    "ReturnStep",
    "allocate_restock",
    "claimed_amounts",
    "price_return",
    "returned_units",
]


class ReturnState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"
    REFUNDED = "refunded"
    FAILED = "failed"


class ReturnKind(StrEnum):
    RETURN = "return"
    REFUND_ONLY = "refund_only"


class ReturnStep(StrEnum):
    RESTOCK = "restock"
    CREDIT = "credit"
    REVERSE_RESTOCK = "reverse_restock"


S = ReturnState
# Waiting for someone (escalated when they wait too long).
OPEN: frozenset[ReturnState] = frozenset({S.REQUESTED, S.APPROVED})
# Units of these returns count as returned: they may not be returned again.
LIVE: frozenset[ReturnState] = frozenset({S.REQUESTED, S.APPROVED, S.RECEIVED, S.REFUNDED})


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    quantity: int
    amount_minor: int
    resellable: int = 0
    damaged: int = 0


@dataclass(frozen=True)
class Restock:
    sku: str
    warehouse: str
    quantity: int


@dataclass(eq=False)
class Return:
    id: str
    order_id: str
    customer_id: str
    kind: ReturnKind
    state: ReturnState
    reason: str
    currency: str
    lines: tuple[ReturnLine, ...]
    requested_by: str
    requested_at: datetime
    updated_at: datetime
    note: str = ""
    decided_by: str = ""
    step: ReturnStep | None = None
    step_deadline: datetime | None = None
    step_attempts: int = 0
    failure_reason: str = ""
    credit_note_id: str = ""
    credit_note_number: str = ""
    restock: tuple[Restock, ...] = ()
    decided_at: datetime | None = None
    received_at: datetime | None = None
    refunded_at: datetime | None = None
    escalated_at: datetime | None = None
    # (step, what happened) for the step log, written by the repository with the return.
    log: list[tuple[ReturnStep, str]] = field(default_factory=list, repr=False)

    @property
    def amount_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    def _require(self, *states: ReturnState, action: str) -> None:
        if self.state not in states:
            raise FailedPrecondition(f"return {self.id} is {self.state}; it cannot be {action}")

    def approve(self, actor: str, note: str, at: datetime) -> None:
        self._require(S.REQUESTED, action="approved")
        self.state, self.decided_by, self.note, self.decided_at = S.APPROVED, actor, note, at
        self.updated_at = at

    def reject(self, actor: str, note: str, at: datetime) -> None:
        self._require(S.REQUESTED, action="rejected")
        if not note.strip():
            raise InvalidArgument("a rejection needs a note", {"note": "is required"})
        self.state, self.decided_by, self.note, self.decided_at = S.REJECTED, actor, note, at
        self.updated_at = at

    def receive(self, inspected: Mapping[str, tuple[int, int]], at: datetime) -> None:
        """Record the inspection: per SKU (resellable, damaged), adding up to the units sent."""
        self._require(S.APPROVED, action="received")
        if self.kind is ReturnKind.REFUND_ONLY:
            raise FailedPrecondition(f"return {self.id} is refund-only: no goods come back")
        problems: dict[str, str] = {}
        skus = {line.sku for line in self.lines}
        for sku in inspected.keys() - skus:
            problems[f"lines.{sku}"] = "is not a line of this return"
        lines = []
        for line in self.lines:
            resellable, damaged = inspected.get(line.sku, (0, 0))
            if resellable < 0 or damaged < 0:
                problems[f"lines.{line.sku}"] = "quantities must not be negative"
            elif resellable + damaged != line.quantity:
                problems[f"lines.{line.sku}"] = (
                    f"resellable + damaged must be {line.quantity}, got {resellable + damaged}"
                )
            lines.append(replace(line, resellable=resellable, damaged=damaged))
        if problems:
            raise InvalidArgument("the inspection does not match the return", problems)
        self.lines = tuple(lines)
        self.state, self.received_at, self.updated_at = S.RECEIVED, at, at

    def refunded(self, credit_note_id: str, number: str, at: datetime) -> None:
        self.state, self.refunded_at, self.updated_at = S.REFUNDED, at, at
        self.credit_note_id, self.credit_note_number = credit_note_id, number

    def failed(self, reason: str, at: datetime) -> None:
        self.state, self.failure_reason, self.updated_at = S.FAILED, reason, at


def returned_units(returns: Iterable[Return]) -> dict[str, int]:
    """Units per SKU already claimed by live returns (requested up to refunded)."""
    units: dict[str, int] = {}
    for ret in returns:
        if ret.state in LIVE:
            for line in ret.lines:
                units[line.sku] = units.get(line.sku, 0) + line.quantity
    return units


def claimed_amounts(returns: Iterable[Return]) -> dict[str, int]:
    """Amounts per SKU already claimed by live returns (requested up to refunded)."""
    amounts: dict[str, int] = {}
    for ret in returns:
        if ret.state in LIVE:
            for line in ret.lines:
                amounts[line.sku] = amounts.get(line.sku, 0) + line.amount_minor
    return amounts


def price_return(
    order_lines: Sequence[tuple[str, int, int]],
    already: Mapping[str, int],
    wanted: Sequence[tuple[str, int]],
    gifts: Mapping[str, int] | None = None,
    claimed: Mapping[str, int] | None = None,
) -> tuple[ReturnLine, ...]:
    """Price a request of (sku, units) against the order's (sku, quantity, final amount) lines,
    of which `gifts[sku]` units were free (the pricing breakdown's gift units); `already` and
    `claimed` are the units and amounts per SKU of live returns (`returned_units`,
    `claimed_amounts`; without `claimed`, those units are taken at their value).

    Raises InvalidArgument for a malformed request and FailedPrecondition for units that were
    not bought or were already returned (the over-refund guard).
    """
    by_sku = {sku: (quantity, amount) for sku, quantity, amount in order_lines}
    problems: dict[str, str] = {}
    if not wanted:
        problems["lines"] = "at least one line is required"
    seen: set[str] = set()
    for i, (sku, units) in enumerate(wanted):
        if sku not in by_sku:
            problems[f"lines[{i}].sku"] = f"{sku!r} is not a line of the order"
        elif sku in seen:
            problems[f"lines[{i}].sku"] = f"duplicate SKU {sku!r}"
        if units <= 0:
            problems[f"lines[{i}].quantity"] = "must be greater than 0"
        seen.add(sku)
    if problems:
        raise InvalidArgument("the return is not valid", problems)
    lines = []
    for sku, units in wanted:
        quantity, amount = by_sku[sku]
        before = already.get(sku, 0)
        if before + units > quantity:
            raise FailedPrecondition(
                f"{sku}: {units} units asked, {quantity - before} of {quantity} left to return"
            )
        gift = (gifts or {}).get(sku, 0)
        back = _value(amount, quantity, gift, before)
        if claimed is not None:
            back = claimed.get(sku, 0)
        value = max(0, _value(amount, quantity, gift, before + units) - back)
        lines.append(ReturnLine(sku=sku, quantity=units, amount_minor=value))
    return tuple(lines)


def _value(amount: int, quantity: int, gift: int, units: int) -> int:
    """What the first `units` units of a line back are worth, gift units first."""
    gift = min(max(gift, 0), quantity)
    paid = quantity - gift
    return amount * max(0, units - gift) // paid if paid else 0


def allocate_restock(
    allocations: Sequence[tuple[str, str, int]],
    restocked_before: Sequence[Restock],
    resellable: Mapping[str, int],
) -> tuple[Restock, ...]:
    """Send resellable units back to the warehouses they left from (the order's allocations),
    filling each warehouse up to what it shipped less what earlier returns put back."""
    back: dict[tuple[str, str], int] = {}
    for r in restocked_before:
        back[(r.sku, r.warehouse)] = back.get((r.sku, r.warehouse), 0) + r.quantity
    plan: list[Restock] = []
    for sku, units in sorted(resellable.items()):
        left = units
        for a_sku, warehouse, shipped in allocations:
            if a_sku != sku or left == 0:
                continue
            room = shipped - back.get((sku, warehouse), 0)
            take = min(room, left)
            if take > 0:
                plan.append(Restock(sku, warehouse, take))
                left -= take
        if left:
            raise FailedPrecondition(f"{sku}: {left} resellable units have no warehouse to go to")
    return tuple(plan)
