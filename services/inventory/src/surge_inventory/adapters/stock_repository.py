"""Stock levels: the conditional reserve, signed changes, receipts and write-offs.

Every statement that locks stock rows locks them in (sku, warehouse) order, so two transactions
touching the same rows never deadlock: a `... ORDER BY sku, warehouse FOR UPDATE` CTE takes the
locks before the UPDATE that uses them. Stock can never go negative: the table's CHECK
constraints say so and every decrement is conditional (`WHERE available >= :q`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import raw_fetch, raw_fetchrow

from surge_inventory.adapters.codec import allocations_json, decode_json
from surge_inventory.adapters.read_ahead import read_ahead_of
from surge_inventory.domain.model import Allocation, Level

__all__ = ["Delta", "ReserveAttempt", "StockRepository", "StockRow"]


@dataclass(frozen=True)
class StockRow:
    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    available: int


@dataclass(frozen=True)
class Delta:
    """A change to one stock row; available changes by `on_hand - reserved`."""

    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    ref: str = ""


@dataclass(frozen=True)
class ReserveAttempt:
    # The order already had an outcome: nothing was locked or changed.
    prior: bool
    # Every allocation was moved from available to reserved.
    applied: bool
    # (expires_at, created_at) of the HELD reservation inserted; None if none was (a concurrent
    # delivery of the same order got there first, or the allocations did not fit).
    stamps: tuple[datetime, datetime] | None
    # Fresh (locked) availability of every stock row of the requested SKUs.
    levels: tuple[tuple[str, str, int], ...]


# Unlocked read: the first allocation attempt is optimistic, and a sold-out SKU is rejected
# without taking any lock.
_LEVELS = text(
    "SELECT k.sku, k.active, s.warehouse, s.available, w.region "
    "FROM skus k LEFT JOIN stock s ON s.sku = k.sku "
    "LEFT JOIN warehouses w ON w.code = s.warehouse "
    "WHERE k.sku = ANY(CAST(:skus AS text[]))"
)

# One round trip decides a reservation. Unless the order already has an outcome, lock every stock
# row of the order's SKUs in (sku, warehouse) order, check that each planned allocation still
# fits, and only then move the units from available to reserved (all or none), audit each
# allocation and insert the HELD reservation. Returns the fresh, locked availability so a lost
# race is re-planned without another read; the locks are already held, so the re-plan is final.
_RESERVE = text(
    """
    WITH want AS MATERIALIZED (
        SELECT * FROM unnest(CAST(:skus AS text[]), CAST(:warehouses AS text[]),
                             CAST(:quantities AS integer[])) AS w(sku, warehouse, quantity)
    ),
    prior AS MATERIALIZED (
        SELECT EXISTS (SELECT 1 FROM reservations WHERE order_id = :order_id) AS found
    ),
    locked AS MATERIALIZED (
        SELECT s.sku, s.warehouse, s.available FROM stock s
        WHERE s.sku = ANY(CAST(:all_skus AS text[])) AND NOT (SELECT found FROM prior)
        ORDER BY s.sku, s.warehouse
        FOR UPDATE
    ),
    verdict AS MATERIALIZED (
        SELECT count(*) = (SELECT count(*) FROM want) AS ok
        FROM want w JOIN locked l ON l.sku = w.sku AND l.warehouse = w.warehouse
        WHERE l.available >= w.quantity
    ),
    updated AS (
        UPDATE stock s
        SET available = s.available - w.quantity,
            reserved = s.reserved + w.quantity,
            updated_at = now()
        FROM want w, verdict v
        WHERE v.ok AND s.sku = w.sku AND s.warehouse = w.warehouse
          AND s.available >= w.quantity
        RETURNING s.sku, s.warehouse, w.quantity
    ),
    moved AS (
        INSERT INTO stock_movements (sku, warehouse, delta_on_hand, delta_reserved, reason,
                                     ref, actor)
        SELECT sku, warehouse, 0, quantity, 'reserve', :order_id, :actor FROM updated
    ),
    held AS (
        INSERT INTO reservations (id, order_id, saga_id, status, region, allocations, expires_at)
        SELECT :id, :order_id, :saga_id, 'held', :region, CAST(:allocations AS jsonb),
               now() + make_interval(secs => :ttl)
        FROM verdict WHERE ok
        ON CONFLICT (order_id) DO NOTHING
        RETURNING expires_at, created_at
    )
    SELECT (SELECT found FROM prior) AS prior,
           (SELECT count(*) FROM updated) AS applied,
           (SELECT expires_at FROM held) AS expires_at,
           (SELECT created_at FROM held) AS created_at,
           COALESCE((SELECT json_agg(json_build_array(sku, warehouse, available)) FROM locked),
                    '[]') AS levels
    """
)

# The generic change: sum the signed deltas per row, lock the rows in order, apply, and write one
# audit row per delta (each with its own reference, e.g. the order id).
_APPLY = text(
    """
    WITH d AS MATERIALIZED (
        SELECT * FROM unnest(CAST(:skus AS text[]), CAST(:warehouses AS text[]),
                             CAST(:on_hand AS integer[]), CAST(:reserved AS integer[]),
                             CAST(:refs AS text[]))
                      AS d(sku, warehouse, on_hand, reserved, ref)
    ),
    total AS MATERIALIZED (
        SELECT sku, warehouse, CAST(sum(on_hand) AS integer) AS on_hand,
               CAST(sum(reserved) AS integer) AS reserved
        FROM d GROUP BY sku, warehouse
    ),
    locked AS MATERIALIZED (
        SELECT s.sku, s.warehouse FROM stock s
        JOIN total t ON t.sku = s.sku AND t.warehouse = s.warehouse
        ORDER BY s.sku, s.warehouse
        FOR UPDATE OF s
    ),
    updated AS (
        UPDATE stock s
        SET on_hand = s.on_hand + t.on_hand,
            reserved = s.reserved + t.reserved,
            available = s.available + t.on_hand - t.reserved,
            updated_at = now()
        FROM total t, locked l
        WHERE s.sku = t.sku AND s.warehouse = t.warehouse
          AND l.sku = t.sku AND l.warehouse = t.warehouse
        RETURNING s.sku, s.warehouse
    ),
    moved AS (
        INSERT INTO stock_movements (sku, warehouse, delta_on_hand, delta_reserved, reason,
                                     ref, actor)
        SELECT d.sku, d.warehouse, d.on_hand, d.reserved, :reason, d.ref, :actor
        FROM d JOIN updated u ON u.sku = d.sku AND u.warehouse = d.warehouse
    )
    SELECT count(*) AS changed FROM updated
    """
)

_RECEIVE = text(
    """
    WITH upserted AS (
        INSERT INTO stock (sku, warehouse, on_hand, reserved, available)
        VALUES (:sku, :warehouse, :quantity, 0, :quantity)
        ON CONFLICT (sku, warehouse) DO UPDATE
        SET on_hand = stock.on_hand + EXCLUDED.on_hand,
            available = stock.available + EXCLUDED.available,
            updated_at = now()
        RETURNING sku, warehouse
    )
    INSERT INTO stock_movements (sku, warehouse, delta_on_hand, delta_reserved, reason, ref, actor)
    SELECT sku, warehouse, :quantity, 0, :reason, '', :actor FROM upserted
    RETURNING 1
    """
)

# A write-off may take only units nobody holds: on_hand never drops below reserved.
_REMOVE = text(
    """
    WITH updated AS (
        UPDATE stock SET on_hand = on_hand + :quantity, available = available + :quantity,
                         updated_at = now()
        WHERE sku = :sku AND warehouse = :warehouse AND available + :quantity >= 0
        RETURNING sku, warehouse
    )
    INSERT INTO stock_movements (sku, warehouse, delta_on_hand, delta_reserved, reason, ref, actor)
    SELECT sku, warehouse, :quantity, 0, :reason, '', :actor FROM updated
    RETURNING 1
    """
)

_STOCK_OF = text(
    "SELECT sku, warehouse, on_hand, reserved, available FROM stock "
    "WHERE sku = ANY(CAST(:skus AS text[])) ORDER BY sku, warehouse"
)
_SKU_PAGE = text("SELECT sku FROM skus WHERE sku > :after ORDER BY sku LIMIT :limit")

_SEED_STOCK = text(
    """
    WITH inserted AS (
        INSERT INTO stock (sku, warehouse, on_hand, reserved, available)
        VALUES (:sku, :warehouse, :quantity, 0, :quantity)
        ON CONFLICT (sku, warehouse) DO NOTHING
        RETURNING sku, warehouse
    )
    INSERT INTO stock_movements (sku, warehouse, delta_on_hand, delta_reserved, reason, ref, actor)
    SELECT sku, warehouse, :quantity, 0, 'seed', '', 'surge-inventory seed' FROM inserted
    RETURNING 1
    """
)


class StockRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def levels(self, skus: Sequence[str]) -> tuple[dict[str, bool], list[Level]]:
        """(SKU -> active) for the known SKUs, and their current availability (unlocked)."""
        found = read_ahead_of(self._connection)
        if found is not None and found.answers(skus):
            # Read ahead for the group commit, and kept current with the batch's own changes.
            return found.levels_of(skus)
        rows = await raw_fetch(self._connection, _LEVELS, {"skus": list(skus)})
        known: dict[str, bool] = {}
        levels: list[Level] = []
        for row in rows:
            known[row.sku] = row.active
            if row.warehouse is not None:
                levels.append(Level(row.sku, row.warehouse, row.region, row.available))
        return known, levels

    async def reserve(
        self,
        allocations: Sequence[Allocation],
        all_skus: Sequence[str],
        *,
        reservation_id: str,
        order_id: str,
        saga_id: str,
        region: str,
        ttl_seconds: int,
        actor: str,
    ) -> ReserveAttempt:
        """Hold `allocations` and insert the HELD reservation, all or nothing (see _RESERVE)."""
        row = await raw_fetchrow(
            self._connection,
            _RESERVE,
            {
                "skus": [a.sku for a in allocations],
                "warehouses": [a.warehouse for a in allocations],
                "quantities": [a.quantity for a in allocations],
                "all_skus": sorted(set(all_skus)),
                "id": reservation_id,
                "order_id": order_id,
                "saga_id": saga_id,
                "region": region,
                "allocations": allocations_json(allocations),
                "ttl": float(ttl_seconds),
                "actor": actor,
            },
        )
        assert row is not None  # the statement always returns one row
        stamps = (row.expires_at, row.created_at) if row.expires_at is not None else None
        attempt = ReserveAttempt(
            prior=bool(row.prior),
            applied=row.applied == len(allocations),
            stamps=stamps,
            levels=tuple((s, w, int(a)) for s, w, a in decode_json(row.levels)),
        )
        found = read_ahead_of(self._connection)
        if found is not None:
            # Locked now: these are exact for the rest of the batch.
            for sku, warehouse, available in attempt.levels:
                found.replace(sku, warehouse, available)
            if attempt.applied:
                for allocation in allocations:
                    found.change(allocation.sku, allocation.warehouse, -allocation.quantity)
        return attempt

    async def apply(self, deltas: Sequence[Delta], *, reason: str, actor: str) -> int:
        """Apply signed changes to existing rows; returns how many stock rows changed."""
        if not deltas:
            return 0
        row = await raw_fetchrow(
            self._connection,
            _APPLY,
            {
                "skus": [d.sku for d in deltas],
                "warehouses": [d.warehouse for d in deltas],
                "on_hand": [d.on_hand for d in deltas],
                "reserved": [d.reserved for d in deltas],
                "refs": [d.ref for d in deltas],
                "reason": reason,
                "actor": actor,
            },
        )
        assert row is not None
        found = read_ahead_of(self._connection)
        if found is not None:
            for d in deltas:
                found.change(d.sku, d.warehouse, d.on_hand - d.reserved)
        return int(row[0])

    async def adjust(
        self, sku: str, warehouse: str, quantity: int, *, reason: str, actor: str
    ) -> bool:
        """Receive (positive) or remove (negative) on-hand units; False if too few are free."""
        statement = _RECEIVE if quantity > 0 else _REMOVE
        result = await self._connection.execute(
            statement,
            {
                "sku": sku,
                "warehouse": warehouse,
                "quantity": quantity,
                "reason": reason,
                "actor": actor,
            },
        )
        return result.first() is not None

    async def seed(self, sku: str, warehouse: str, quantity: int) -> bool:
        """Create a stock row unless it exists (never resets stock); True if created."""
        result = await self._connection.execute(
            _SEED_STOCK, {"sku": sku, "warehouse": warehouse, "quantity": quantity}
        )
        return result.first() is not None

    async def rows_for(self, skus: Sequence[str]) -> list[StockRow]:
        rows = (await self._connection.execute(_STOCK_OF, {"skus": list(skus)})).all()
        return [StockRow(r.sku, r.warehouse, r.on_hand, r.reserved, r.available) for r in rows]

    async def sku_page(self, after: str, limit: int) -> list[str]:
        rows = (await self._connection.execute(_SKU_PAGE, {"after": after, "limit": limit})).all()
        return [row.sku for row in rows]
