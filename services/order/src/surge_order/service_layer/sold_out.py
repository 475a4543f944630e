"""Refusing orders for a sold-out SKU at once, instead of running a saga to find out.

In a flash sale thousands of buyers want a SKU that ran out in the first second. Each order
accepted after that only starts a saga that reserves nothing, cancels and tells the buyer late,
and those sagas take the machine from the orders that can still win (measured in
BENCHMARKS.md, "Double 11 capacity"). So when inventory refuses an order for insufficient stock
it says how many units were left (`StockRejected.available_units`), and for `hold_seconds` after
that a new order wanting more than that is refused here with FAILED_PRECONDITION.

This is a hint, never the decision: inventory still decides every reservation, so it cannot
oversell. It can refuse an order that would have won only within the hold after stock came back
(a release, a restock), which is why the hold is short and each replica keeps its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from surge_platform import errors

__all__ = ["SoldOutGate"]


@dataclass(frozen=True)
class _Refusal:
    available: int
    until: float


class SoldOutGate:
    def __init__(
        self,
        hold_seconds: float,
        on_refusal: Callable[[], object] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hold = hold_seconds
        self._on_refusal = on_refusal
        self._clock = clock
        self._refusals: dict[str, _Refusal] = {}

    @property
    def enabled(self) -> bool:
        return self._hold > 0

    def refused(self, available_units: Mapping[str, int]) -> None:
        """Inventory refused an order: these SKUs had only these units left."""
        if not self.enabled or not available_units:
            return
        until = self._clock() + self._hold
        for sku, units in available_units.items():
            self._refusals[sku] = _Refusal(max(units, 0), until)

    def short(self, wanted: Iterable[tuple[str, int]]) -> dict[str, int]:
        """The SKUs of an order (sku, quantity pairs) known to be short now: SKU -> units left."""
        if not self._refusals:
            return {}
        now = self._clock()
        totals: dict[str, int] = {}
        for sku, quantity in wanted:
            totals[sku] = totals.get(sku, 0) + quantity
        found: dict[str, int] = {}
        for sku, quantity in totals.items():
            refusal = self._refusals.get(sku)
            if refusal is None:
                continue
            if refusal.until <= now:
                del self._refusals[sku]  # expired: the next order asks inventory again
            elif quantity > refusal.available:
                found[sku] = refusal.available
        return found

    def refusing(self, short: Mapping[str, int]) -> errors.FailedPrecondition:
        """The error that refuses an order for these short SKUs (counted as a refusal)."""
        self._on_refusal()
        left = "; ".join(f"{sku} has {units} left" for sku, units in sorted(short.items()))
        return errors.FailedPrecondition(f"sold out: {left}; try again later")
