"""Reservations: the remembered outcome of each order's ReserveStock, and the expiry sweep."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import raw_execute, raw_fetch, raw_fetchrow

from surge_inventory.adapters.codec import decode_json
from surge_inventory.adapters.read_ahead import ReservationWrites, read_ahead_of
from surge_inventory.domain.model import Allocation, Reservation, ReservationStatus

__all__ = ["ReservationRepository"]

_RESERVATION_COLUMNS = (
    "id, order_id, saga_id, status, allocations, confirmed, reject_reason, unavailable_skus, "
    "expires_at, created_at"
)
_OUTCOME = text(f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE order_id = :order_id")
_FOR_UPDATE = text(
    f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE order_id = :order_id FOR UPDATE"
)
# A group commit's reservations, locked in one order (see chunk.read_chunk).
_LOCK_MANY = text(
    f"SELECT {_RESERVATION_COLUMNS} FROM reservations "
    "WHERE order_id = ANY(CAST(:order_ids AS text[])) ORDER BY order_id FOR UPDATE"
)
_INSERT_CLOSED = text(
    """
    INSERT INTO reservations (id, order_id, saga_id, status, reject_reason, unavailable_skus,
                              expires_at)
    VALUES (:id, :order_id, :saga_id, :status, :reason, CAST(:skus AS text[]), now())
    ON CONFLICT (order_id) DO NOTHING
    RETURNING 1
    """
)
# HELD -> COMMITTED (`Reservation.commit`) without reading the row first. A reservation the
# sweeper expired meanwhile no longer matches once its lock is released (READ COMMITTED re-checks
# the WHERE clause), exactly as the sweeper skips one this statement locked.
_COMMIT_HELD = text(
    "UPDATE reservations SET status = 'committed', updated_at = now() "
    "WHERE order_id = :order_id AND status = 'held' RETURNING 1"
)
_SAVE = text(
    "UPDATE reservations SET status = :status, confirmed = CAST(:confirmed AS jsonb), "
    "updated_at = now() WHERE id = :id"
)
# Several sweepers may run (one per replica): SKIP LOCKED hands each due hold to exactly one,
# and a hold committed meanwhile no longer matches `status = 'held'` once its lock is released.
_EXPIRE_DUE = text(
    f"""
    WITH due AS (
        SELECT id FROM reservations
        WHERE status = 'held' AND expires_at < now()
        ORDER BY expires_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE reservations r SET status = 'expired', updated_at = now()
    FROM due WHERE r.id = due.id
    RETURNING {", ".join(f"r.{c.strip()}" for c in _RESERVATION_COLUMNS.split(","))}
    """
)
_COUNT_HELD = text("SELECT count(*) FROM reservations WHERE status = 'held'")


class ReservationRepository:
    """`writes`: where `save()` collects state changes to write at commit (the unit of work's
    `deferred(ReservationWrites)`); without it, `save()` writes at once."""

    def __init__(
        self,
        connection: AsyncConnection,
        writes: Callable[[], ReservationWrites] | None = None,
    ) -> None:
        self._connection = connection
        self._writes = writes

    def _read_ahead(self, order_id: str) -> Reservation | None:
        found = read_ahead_of(self._connection)
        return found.reservations.get(order_id) if found is not None else None

    async def get(self, order_id: str) -> Reservation | None:
        # In a group commit, a reservation read ahead is the one its handlers changed so far
        # (their writes wait for the commit).
        known = self._read_ahead(order_id)
        if known is not None:
            return known
        row = await raw_fetchrow(self._connection, _OUTCOME, {"order_id": order_id})
        return _reservation(row) if row else None

    async def get_for_update(self, order_id: str) -> Reservation | None:
        found = read_ahead_of(self._connection)
        known = found.reservations.get(order_id) if found is not None else None
        if known is not None:
            return known  # locked by the batch already
        row = await raw_fetchrow(self._connection, _FOR_UPDATE, {"order_id": order_id})
        if row is None:
            return None
        reservation = _reservation(row)
        if found is not None:
            # Locked now (e.g. reserved earlier in this batch): later handlers share this object.
            found.reservations[order_id] = reservation
        return reservation

    async def commit_held(self, order_id: str) -> bool:
        """Commit the order's reservation with one statement if it is HELD; False when it is
        not (missing, in another state) or when a group commit locked it already: then the
        caller takes the general path (`get_for_update`, `Reservation.commit`, `save`)."""
        if read_ahead_of(self._connection) is not None:
            return False
        row = await raw_fetchrow(self._connection, _COMMIT_HELD, {"order_id": order_id})
        return row is not None

    async def add_closed(
        self,
        *,
        id: str,
        order_id: str,
        saga_id: str,
        status: ReservationStatus,
        reason: str,
        unavailable_skus: Sequence[str] = (),
    ) -> bool:
        """Remember an order that holds nothing (rejected, or released before it was reserved)."""
        result = await self._connection.execute(
            _INSERT_CLOSED,
            {
                "id": id,
                "order_id": order_id,
                "saga_id": saga_id,
                "status": status.value,
                "reason": reason,
                "skus": list(unavailable_skus),
            },
        )
        return result.first() is not None

    async def lock_many(self, order_ids: Sequence[str]) -> list[Reservation]:
        """Lock the reservations of these orders, in order id order; returns those that exist."""
        rows = await raw_fetch(self._connection, _LOCK_MANY, {"order_ids": list(order_ids)})
        return [_reservation(row) for row in rows]

    async def save(self, reservation: Reservation) -> None:
        if self._writes is not None:
            self._writes().add(reservation)
            return
        await raw_execute(
            self._connection,
            _SAVE,
            {
                "id": reservation.id,
                "status": reservation.status.value,
                "confirmed": json.dumps(reservation.confirmed, sort_keys=True),
            },
        )

    async def expire_due(self, limit: int) -> list[Reservation]:
        """Mark up to `limit` overdue HELD reservations EXPIRED (skipping locked ones)."""
        rows = (await self._connection.execute(_EXPIRE_DUE, {"limit": limit})).all()
        return [_reservation(row) for row in rows]

    async def count_held(self) -> int:
        return int((await self._connection.execute(_COUNT_HELD)).scalar_one())


def _reservation(row: Any) -> Reservation:
    return Reservation(
        id=str(row.id),
        order_id=row.order_id,
        saga_id=row.saga_id,
        status=ReservationStatus(row.status),
        allocations=tuple(
            Allocation(a["sku"], a["warehouse"], int(a["quantity"]))
            for a in decode_json(row.allocations)
        ),
        expires_at=row.expires_at,
        created_at=row.created_at,
        confirmed=dict(decode_json(row.confirmed)),
        reject_reason=row.reject_reason,
        unavailable_skus=tuple(row.unavailable_skus),
    )
