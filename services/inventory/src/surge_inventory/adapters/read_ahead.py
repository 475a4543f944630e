"""What a group commit of inventory commands read ahead for its handlers, and its deferred writes.

`chunk.read_chunk` (registered with `surge_platform.db.on_chunk`) runs before the chunk's handlers:
- it locks every reservation that a Commit, Release or Confirm of the chunk names with one
  `... ORDER BY order_id FOR UPDATE` (a fixed order, before any stock row is locked in the batch,
  as single-message handlers do too: reservation, then stock);
- it reads the catalog state and the availability of every SKU the chunk's ReserveStock commands
  name with one statement (unlocked, like the read each reserve made before: the reserve
  statement still checks and locks every row it takes).
The repositories answer from here and keep it current: the reservation objects handed out are
the ones later handlers of the batch get again (with every change made to them), and every stock
change the batch makes is applied to the levels read. Reservation state changes are written
once per batch (`ReservationWrites`), before the outbox, at commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import prefetched, raw_execute

from surge_inventory.domain.model import Level, Reservation

__all__ = ["KEY", "ReadAhead", "ReservationWrites", "read_ahead_of"]

# Where a batch keeps its read-ahead (`BatchTransaction.prefetched`).
KEY = "surge_inventory.read_ahead"

# One UPDATE for every reservation the batch changed (its final state).
_SAVE_MANY = text(
    "UPDATE reservations r SET status = s.status, confirmed = CAST(s.confirmed AS jsonb), "
    "updated_at = now() "
    "FROM unnest(CAST(:ids AS text[]), CAST(:statuses AS text[]), CAST(:confirmed AS text[])) "
    "AS s(id, status, confirmed) WHERE r.id = CAST(s.id AS uuid)"
)


@dataclass
class ReadAhead:
    # Order id -> its reservation, locked by the batch (orders without one are not here).
    reservations: dict[str, Reservation] = field(default_factory=dict)
    # SKUs whose catalog state and levels were read, and what was found.
    skus: set[str] = field(default_factory=set)
    active: dict[str, bool] = field(default_factory=dict)
    levels: dict[tuple[str, str], Level] = field(default_factory=dict)

    def answers(self, skus: Sequence[str]) -> bool:
        return all(sku in self.skus for sku in skus)

    def levels_of(self, skus: Sequence[str]) -> tuple[dict[str, bool], list[Level]]:
        wanted = set(skus)
        known = {sku: active for sku, active in self.active.items() if sku in wanted}
        return known, [level for key, level in self.levels.items() if key[0] in wanted]

    def change(self, sku: str, warehouse: str, available_delta: int) -> None:
        level = self.levels.get((sku, warehouse))
        if level is not None:
            self.levels[(sku, warehouse)] = Level(
                sku, warehouse, level.region, level.available + available_delta
            )

    def replace(self, sku: str, warehouse: str, available: int) -> None:
        level = self.levels.get((sku, warehouse))
        if level is not None:
            self.levels[(sku, warehouse)] = Level(sku, warehouse, level.region, available)


def read_ahead_of(connection: AsyncConnection) -> ReadAhead | None:
    """The read-ahead of the group commit running on `connection`, if any."""
    found = prefetched(connection, KEY)
    return found if isinstance(found, ReadAhead) else None


class ReservationWrites:
    """Reservation state changes of one transaction, written with one statement at commit
    (`SqlUnitOfWork.deferred`); a reservation saved twice is written once, as it ends."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._saved: dict[str, Reservation] = {}

    def add(self, reservation: Reservation) -> None:
        self._saved[reservation.id] = reservation

    async def flush(self) -> None:
        if not self._saved:
            return
        # Sorted by id: concurrent writers update rows in one order.
        saved = sorted(self._saved.values(), key=lambda r: r.id)
        self._saved = {}
        await raw_execute(
            self._connection,
            _SAVE_MANY,
            {
                "ids": [r.id for r in saved],
                "statuses": [r.status.value for r in saved],
                "confirmed": [json.dumps(r.confirmed, sort_keys=True) for r in saved],
            },
        )
