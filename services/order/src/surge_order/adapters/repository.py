"""Orders and sagas in PostgreSQL: placement, locks and the saga's writes, on one connection.

Every method is one statement (one round trip), and a saga message handled alone claims its
inbox row and locks its order with one (`claim_and_lock`). Saga messages lock the saga and its
order with `SELECT … FOR UPDATE`, so concurrent replies, rpcs and the sweeper for the same order
run one after another, never interleaved. The read side is `OrderQueries` (order_queries.py);
rows map to domain objects in order_rows.py.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import BatchTransaction, current_batch, raw_execute, raw_fetch, raw_fetchrow
from surge_platform.outbox import Outbox, OutboxMessage

from surge_order.adapters import sql
from surge_order.adapters.order_queries import OrderQueries
from surge_order.adapters.order_rows import (
    ShipmentCounts,
    order_from_row,
    order_params,
    prefixed,
    saga_from_row,
    saga_params,
)
from surge_order.adapters.outbox_rows import OUTBOX_CTE, OUTBOX_ROWS_CTE, outbox_params
from surge_order.adapters.saga_writes import SagaWrites
from surge_order.domain.model import Order, Saga

__all__ = ["OrderRepository", "lock_chunk", "order_key"]

# Keys of what a group commit read ahead (`BatchTransaction.prefetched`): order id -> locked
# row, and order id -> ShipmentCounts.
_LOCKED = "surge_order.locked"
_COUNTS = "surge_order.shipment_counts"


def order_key(message: Any) -> str | None:
    """The order a saga message names (its `order_id`), normalised; None if it names none."""
    order_id = getattr(message, "order_id", "")
    if not isinstance(order_id, str) or not order_id:
        return None
    try:
        return str(uuid.UUID(order_id))
    except ValueError:
        return None  # its handler reports it, as before


async def lock_chunk(
    batch: BatchTransaction, messages: Sequence[Any], counted: tuple[type, ...] = ()
) -> None:
    """Group-commit hook (`surge_platform.db.on_chunk`): lock every order the chunk's messages
    name with one statement, so that each handler's `lock()` costs no round trip. The rows stay
    right until the batch writes them: `save()` drops its order's row, and a later `lock()` of
    it in the batch reads it again.

    A chunk with a message of a `counted` type (whose handler asks `shipment_counts`) also reads
    the orders' shipment counts, with a second statement: one run after the locks are held sees
    every shipment written before (a lock waited for inside one statement would not refresh its
    snapshot), and any later writer of an order's shipments waits for its lock."""
    ids = {key for key in map(order_key, messages) if key is not None}
    if len(ids) < 2:
        return
    rows = await raw_fetch(batch.connection, sql.LOCK_MANY, {"ids": sorted(ids)})
    batch.prefetched[_LOCKED] = {str(row.id): row for row in rows}
    if counted and any(isinstance(message, counted) for message in messages):
        found = await raw_fetch(batch.connection, sql.SHIPMENT_COUNTS_MANY, {"ids": sorted(ids)})
        counts = dict.fromkeys(ids, ShipmentCounts(0, 0, 0))
        counts.update(
            (str(r.order_id), ShipmentCounts(r.total, r.dispatched, r.delivered)) for r in found
        )
        batch.prefetched[_COUNTS] = counts


class OrderRepository(OrderQueries):
    """`writes`: inside a group commit of the saga durables, where `save()` and
    `add_shipments()` queue their rows for one statement per batch (adapters/saga_writes.py).
    `outbox`: the unit of work's; otherwise `save()` writes its queued messages too."""

    def __init__(
        self,
        connection: AsyncConnection,
        writes: SagaWrites | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        super().__init__(connection)
        self._writes = writes
        self._outbox = outbox
        # The row `claim_and_lock` locked; `save()` drops it (a later `lock()` reads again).
        self._claimed: dict[str, Any] = {}
        self._versions: dict[str, int] = {}
        self._step_update: dict[str, Any] | None = None
        self._step_insert: dict[str, Any] | None = None

    async def add(
        self, order: Order, saga: Saga, messages: Sequence[OutboxMessage] | None = None
    ) -> bool:
        """Insert a new order, its saga, history and first step; False if its keys are taken.

        With `messages`, they go into the outbox with the same statement, and the statement
        commits on its own when the unit of work has not begun a transaction yet: the caller
        then writes nothing more in it (a placement that is one statement)."""
        ctes = [sql.INSERT_ORDER_CTE, sql.INSERT_SAGA_CTE]
        params = {**order_params(order), **prefixed("s", saga_params(saga))}
        self._history(order, ctes, params)
        self._steps(ctes, params, only_if_order_written=True)
        if messages is not None:
            ctes.append(OUTBOX_CTE)
            params.update(outbox_params(messages))
        statement = _statement(f"WITH {', '.join(ctes)} SELECT count(*) FROM o")
        inserted = await _scalar(self._connection, statement, params, begin=messages is None)
        if not inserted:
            return False
        self._versions[order.id] = order.version
        return True

    async def claim_and_lock(self, consumer: str, message_id: str, order_id: str) -> bool:
        """`Inbox.claim()` and then `lock(order_id)` in one statement, for a saga message
        handled alone: True the first time `consumer` sees `message_id`, and then the order's
        row (if it exists) stays locked and the next `lock()` of it costs no round trip."""
        row = await raw_fetchrow(
            self._connection,
            sql.CLAIM_AND_LOCK,
            {"consumer": consumer, "message_id": message_id, "order_id": order_id},
        )
        assert row is not None  # one row, with or without the order
        if row.id is not None:
            self._claimed[order_id] = row
        return bool(row.claimed)

    async def lock(self, order_id: str) -> tuple[Order, Saga] | None:
        """The order and its saga, locked until the unit of work ends."""
        await self._settle(order_id)
        row = self._locked_ahead().get(order_id)
        if row is None:
            row = await raw_fetchrow(self._connection, sql.LOCK, {"order_id": order_id})
        if row is None:
            return None
        order = order_from_row(row)
        self._versions[order.id] = order.version
        return order, saga_from_row(row)

    async def _settle(self, order_id: str) -> None:
        """Send the batch's queued writes first if they include this order's: a read sees them."""
        if self._writes is not None and self._writes.holds(order_id):
            await self._writes.flush()

    async def due(self, now: datetime, limit: int) -> list[tuple[Order, Saga]]:
        """Sagas whose step passed its deadline, locked; rows locked elsewhere are skipped."""
        rows = (await self._connection.execute(sql.DUE, {"now": now, "limit": limit})).all()
        found = [(order_from_row(row), saga_from_row(row)) for row in rows]
        self._versions.update({order.id: order.version for order, _ in found})
        return found

    async def get(self, order_id: str) -> tuple[Order, Saga | None] | None:
        await self._settle(order_id)
        row = (await self._connection.execute(sql.GET, {"order_id": order_id})).first()
        if row is None:
            return None
        return order_from_row(row), (saga_from_row(row) if row.saga_id is not None else None)

    async def save(self, order: Order, saga: Saga | None = None) -> None:
        """Write what changed of the order, its history, the saga, its step log and the unit of
        work's queued messages, at once."""
        self._locked_ahead().pop(order.id, None)
        if self._writes is not None:
            await self._queue(self._writes, order, saga)
            return
        ctes: list[str] = []
        params: dict[str, Any] = {}
        expected = self._versions.get(order.id, order.version)
        order_changed = order.version != expected
        if order_changed:
            ctes.append(sql.UPDATE_ORDER_CTE)
            params.update(
                o_id=order.id,
                o_status=order.status.value,
                o_cancel_reason=order.cancel_reason,
                o_paid=order.paid,
                o_updated_at=order.updated_at,
                o_version=order.version,
                o_expected=expected,
            )
            self._history(order, ctes, params)
        if saga is not None:
            ctes.append(sql.UPDATE_SAGA_CTE)
            params.update(prefixed("s", saga_params(saga)))
        self._steps(ctes, params)
        if not ctes:
            return
        if self._outbox is not None and (messages := self._outbox.take_pending()):
            # The messages queued so far ride with this statement: one round trip less than
            # the outbox's own INSERT at commit, in the same transaction.
            ctes.append(OUTBOX_ROWS_CTE)
            params.update(outbox_params(messages))
        tail = "SELECT count(*) FROM o" if order_changed else "SELECT 1"
        statement = _statement(f"WITH {', '.join(ctes)} {tail}")
        updated = await _scalar(self._connection, statement, params)
        if order_changed:
            if updated != 1:
                raise RuntimeError(f"order {order.id} changed concurrently (version {expected})")
            self._versions[order.id] = order.version

    async def _queue(self, writes: SagaWrites, order: Order, saga: Saga | None) -> None:
        """`save()` inside a saga group commit: the same rows, written at the batch's flush."""
        if writes.saved(order.id):  # not within one handler; a later one locks (and flushes)
            await writes.flush()
        expected = self._versions.get(order.id, order.version)
        if order.version != expected:
            writes.order(order, expected)
            self._versions[order.id] = order.version
        if saga is not None:
            writes.saga(order.id, saga_params(saga))
        if self._step_update is not None:
            writes.finish_step(order.id, tuple(self._step_update.values()))
            self._step_update = None
        if self._step_insert is not None:
            writes.start_step(order.id, tuple(self._step_insert.values()))
            self._step_insert = None

    def _locked_ahead(self) -> dict[str, Any]:
        """The rows locked ahead: by `claim_and_lock`, or by `lock_chunk` for the group commit
        this repository works in."""
        return self._claimed or self._read_ahead(_LOCKED)

    def _read_ahead(self, key: str) -> dict[str, Any]:
        batch = current_batch()
        if batch is None or batch.connection is not self._connection:
            return {}
        found: dict[str, Any] = batch.prefetched.get(key, {})
        return found

    def _history(self, order: Order, ctes: list[str], params: dict[str, Any]) -> None:
        if not order.changes:
            return
        ctes.append(sql.HISTORY_CTE)
        params.update(
            h_from=[c.from_status.value if c.from_status else None for c in order.changes],
            h_to=[c.to_status.value for c in order.changes],
            h_reason=[c.reason for c in order.changes],
            h_at=[c.at for c in order.changes],
        )
        order.changes.clear()

    def _steps(
        self, ctes: list[str], params: dict[str, Any], *, only_if_order_written: bool = False
    ) -> None:
        if self._step_update is not None:
            ctes.append(sql.STEP_UPDATE_CTE)
            params.update(self._step_update)
            self._step_update = None
        if self._step_insert is not None:
            ctes.append(sql.STEP_INSERT_CTE.format(guard="FROM o" if only_if_order_written else ""))
            params.update(self._step_insert)
            self._step_insert = None

    def start_step(self, log_id: str, saga: Saga, at: datetime) -> None:
        """Log the saga's current step as started (written by the next `add`/`save`)."""
        assert saga.current_step is not None
        assert saga.direction is not None
        if self._step_insert is not None:
            raise RuntimeError("one step starts per save")
        self._step_insert = {
            "si_id": log_id,
            "si_saga_id": saga.id,
            "si_step": saga.current_step.value,
            "si_direction": saga.direction.value,
            "si_attempts": saga.step_attempts,
            "si_started_at": at,
        }

    def finish_step(
        self, log_id: str, *, succeeded: bool, attempts: int, at: datetime, reason: str = ""
    ) -> None:
        self._update_step(log_id, attempts, "succeeded" if succeeded else "failed", at, reason)

    def count_attempt(self, log_id: str, attempts: int) -> None:
        self._update_step(log_id, attempts, None, None, None)

    def _update_step(
        self,
        log_id: str,
        attempts: int,
        status: str | None,
        at: datetime | None,
        reason: str | None,
    ) -> None:
        if self._step_update is not None:
            raise RuntimeError("one step finishes per save")
        self._step_update = {
            "su_id": log_id,
            "su_attempts": attempts,
            "su_status": status,
            "su_finished_at": at,
            "su_failure_reason": reason,
        }

    async def add_payment(
        self,
        *,
        payment_id: str,
        order: Order,
        amount_minor: int,
        method: str,
        reference: str,
        at: datetime,
    ) -> None:
        await self._connection.execute(
            sql.INSERT_PAYMENT,
            {
                "id": payment_id,
                "order_id": order.id,
                "amount_minor": amount_minor,
                "currency": order.currency,
                "method": method,
                "reference": reference,
                "received_at": at,
            },
        )

    async def add_shipments(self, order_id: str, shipments: Sequence[tuple[str, str]]) -> None:
        self._read_ahead(_COUNTS).pop(order_id, None)
        if shipments and self._writes is not None:
            self._writes.shipments(order_id, shipments)
        elif shipments:
            await raw_execute(
                self._connection,
                sql.ADD_SHIPMENTS,
                {
                    "order_id": order_id,
                    "ids": [sid for sid, _ in shipments],
                    "warehouses": [warehouse for _, warehouse in shipments],
                },
            )

    async def shipment_dispatched(
        self, order_id: str, shipment_id: str, warehouse: str, at: datetime
    ) -> None:
        self._read_ahead(_COUNTS).pop(order_id, None)
        await self._settle(order_id)
        await self._connection.execute(
            sql.DISPATCHED,
            {"shipment_id": shipment_id, "order_id": order_id, "warehouse": warehouse, "at": at},
        )

    async def shipment_delivered(self, order_id: str, shipment_id: str, at: datetime) -> None:
        self._read_ahead(_COUNTS).pop(order_id, None)
        await self._settle(order_id)
        await self._connection.execute(
            sql.DELIVERED, {"shipment_id": shipment_id, "order_id": order_id, "at": at}
        )

    async def shipment_counts(self, order_id: str) -> ShipmentCounts:
        counts: ShipmentCounts | None = self._read_ahead(_COUNTS).get(order_id)
        if counts is not None:
            return counts
        await self._settle(order_id)
        row = await raw_fetchrow(self._connection, sql.SHIPMENT_COUNTS, {"order_id": order_id})
        assert row is not None  # an aggregate: always one row
        return ShipmentCounts(row.total, row.dispatched, row.delivered)


async def _scalar(
    connection: AsyncConnection, statement: TextClause, params: Any, *, begin: bool = True
) -> Any:
    """The first column of a one-row statement, on raw asyncpg (the saga's hottest writes)."""
    row = await raw_fetchrow(connection, statement, params, begin=begin)
    assert row is not None
    return row[0]


@functools.cache
def _statement(query: str) -> TextClause:
    """Writes are assembled from a few CTEs: a handful of distinct statements, built once."""
    return text(query)
