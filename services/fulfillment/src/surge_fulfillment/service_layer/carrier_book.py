"""The carrier rules and warehouse regions, read from the database at most once per TTL.

CreateShipments is on the saga's hot path; the rules change rarely (an operator edits the
`carrier_rules` table), so a handler reuses what was read in the last `ttl` seconds instead of
two extra queries per order. `ttl=0` reads them in every unit of work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from surge_fulfillment.domain.carriers import CarrierRule
from surge_fulfillment.service_layer.unit_of_work import FulfillmentUnitOfWork

__all__ = ["CarrierBook", "CarrierTables"]


@dataclass(frozen=True)
class CarrierTables:
    rules: tuple[CarrierRule, ...]
    warehouse_regions: dict[str, str]


class CarrierBook:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._tables: CarrierTables | None = None
        self._read_at = 0.0

    async def tables(self, uow: FulfillmentUnitOfWork) -> CarrierTables:
        now = self._clock()
        if self._tables is None or now - self._read_at >= self._ttl:
            self._tables = CarrierTables(
                rules=tuple(await uow.carriers.rules()),
                warehouse_regions=await uow.carriers.all_warehouse_regions(),
            )
            self._read_at = now
        return self._tables
