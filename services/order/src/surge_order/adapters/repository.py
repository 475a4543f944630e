"""Orders, sagas, payments and shipments in PostgreSQL, with SQLAlchemy Core on one connection.

Every method is one statement (one round trip). Saga messages lock the saga and its order with
one `SELECT … FOR UPDATE`, so concurrent replies, rpcs and the sweeper for the same order run
one after another, never interleaved.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import BatchTransaction, current_batch, raw_execute, raw_fetch, raw_fetchrow
from surge_platform.outbox import OutboxMessage

from surge_order.adapters import sql
from surge_order.adapters.outbox_rows import OUTBOX_CTE, outbox_params
from surge_order.adapters.saga_writes import SagaWrites
from surge_order.domain.model import Allocation, Order, Saga
from surge_order.domain.order import Address, Customer, PaymentTerms, PricedLine
from surge_order.domain.saga import Direction, SagaState, Step
from surge_order.domain.status import OrderStatus

__all__ = ["HistoryRecord", "OrderFilter", "OrderRepository", "StepRecord", "lock_chunk"]

# Keys of what a group commit read ahead (`BatchTransaction.prefetched`): order id -> locked
# row, and order id -> ShipmentCounts.
_LOCKED = "surge_order.locked"
_COUNTS = "surge_order.shipment_counts"


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
    ids: set[str] = set()
    for message in messages:
        order_id = getattr(message, "order_id", "")
        if isinstance(order_id, str) and order_id:
            try:
                ids.add(str(uuid.UUID(order_id)))
            except ValueError:
                continue  # its handler reports it, as before
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


@dataclass(frozen=True)
class StepRecord:
    step: str
    direction: str
    status: str
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    failure_reason: str


@dataclass(frozen=True)
class HistoryRecord:
    from_status: str | None
    to_status: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    channel: str = ""
    customer_id: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class ShipmentCounts:
    total: int
    dispatched: int
    delivered: int


class OrderRepository:
    """`writes`: inside a group commit of the saga durables, where `save()` and
    `add_shipments()` queue their rows for one statement per batch (adapters/saga_writes.py)."""

    def __init__(self, connection: AsyncConnection, writes: SagaWrites | None = None) -> None:
        self._connection = connection
        self._writes = writes
        self._versions: dict[str, int] = {}
        self._step_update: dict[str, Any] | None = None
        self._step_insert: dict[str, Any] | None = None

    async def find_existing(
        self, channel: str, client_order_id: str, external_id: str | None
    ) -> str | None:
        row = await raw_fetchrow(
            self._connection,
            sql.FIND_EXISTING,
            {"channel": channel, "client_order_id": client_order_id, "external_id": external_id},
        )
        return str(row.id) if row else None

    async def add(
        self, order: Order, saga: Saga, messages: Sequence[OutboxMessage] | None = None
    ) -> bool:
        """Insert a new order, its saga, history and first step; False if its keys are taken.

        With `messages`, they go into the outbox with the same statement, and the statement
        commits on its own when the unit of work has not begun a transaction yet: the caller
        then writes nothing more in it (a placement that is one statement)."""
        ctes = [sql.INSERT_ORDER_CTE, sql.INSERT_SAGA_CTE]
        params = {**_order_params(order), **_prefixed("s", _saga_params(saga))}
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

    async def lock(self, order_id: str) -> tuple[Order, Saga] | None:
        """The order and its saga, locked until the unit of work ends."""
        await self._settle(order_id)
        row = self._locked_ahead().get(order_id)
        if row is None:
            row = await raw_fetchrow(self._connection, sql.LOCK, {"order_id": order_id})
        if row is None:
            return None
        order = _order(row)
        self._versions[order.id] = order.version
        return order, _saga(row)

    async def _settle(self, order_id: str) -> None:
        """Send the batch's queued writes first if they include this order's: a read sees them."""
        if self._writes is not None and self._writes.holds(order_id):
            await self._writes.flush()

    async def due(self, now: datetime, limit: int) -> list[tuple[Order, Saga]]:
        """Sagas whose step passed its deadline, locked; rows locked elsewhere are skipped."""
        rows = (await self._connection.execute(sql.DUE, {"now": now, "limit": limit})).all()
        found = [(_order(row), _saga(row)) for row in rows]
        self._versions.update({order.id: order.version for order, _ in found})
        return found

    async def get(self, order_id: str) -> tuple[Order, Saga | None] | None:
        await self._settle(order_id)
        row = (await self._connection.execute(sql.GET, {"order_id": order_id})).first()
        if row is None:
            return None
        return _order(row), (_saga(row) if row.saga_id is not None else None)

    async def save(self, order: Order, saga: Saga | None = None) -> None:
        """Write what changed of the order, its history, the saga and its step log, at once."""
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
            params.update(_prefixed("s", _saga_params(saga)))
        self._steps(ctes, params)
        if not ctes:
            return
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
            writes.saga(order.id, _saga_params(saga))
        if self._step_update is not None:
            writes.finish_step(order.id, tuple(self._step_update.values()))
            self._step_update = None
        if self._step_insert is not None:
            writes.start_step(order.id, tuple(self._step_insert.values()))
            self._step_insert = None

    def _locked_ahead(self) -> dict[str, Any]:
        """The rows `lock_chunk` locked for the group commit this repository works in."""
        return self._read_ahead(_LOCKED)

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

    async def steps(self, saga_id: str) -> list[StepRecord]:
        rows = (await self._connection.execute(sql.STEPS, {"saga_id": saga_id})).all()
        return [StepRecord(*row) for row in rows]

    async def history(self, order_id: str) -> list[HistoryRecord]:
        rows = (await self._connection.execute(sql.HISTORY, {"order_id": order_id})).all()
        return [HistoryRecord(*row) for row in rows]

    async def list(
        self, where: OrderFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[Order]:
        clauses: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        if where.status is not None:
            clauses.append("o.status = :status")
            params["status"] = where.status.value
        if where.channel:
            clauses.append("o.channel = :channel")
            params["channel"] = where.channel
        if where.customer_id:
            clauses.append("o.customer_id = :customer_id")
            params["customer_id"] = where.customer_id
        if where.created_from is not None:
            clauses.append("o.created_at >= :created_from")
            params["created_from"] = where.created_from
        if where.created_to is not None:
            clauses.append("o.created_at < :created_to")
            params["created_to"] = where.created_to
        if after is not None:
            clauses.append("(o.created_at, o.id) < (:after_at, CAST(:after_id AS uuid))")
            params["after_at"], params["after_id"] = after
        condition = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        statement = text(
            f"SELECT {sql.ORDER_COLUMNS} FROM orders o {condition} "
            "ORDER BY o.created_at DESC, o.id DESC LIMIT :limit"
        )
        rows = (await self._connection.execute(statement, params)).all()
        return [_order(row) for row in rows]

    async def has_payment(self, order_id: str, reference: str) -> bool:
        found = await self._connection.execute(
            sql.FIND_PAYMENT, {"order_id": order_id, "reference": reference}
        )
        return found.first() is not None

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


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


@functools.cache
def _statement(query: str) -> TextClause:
    """Writes are assembled from a few CTEs: a handful of distinct statements, built once."""
    return text(query)


def _prefixed(prefix: str, params: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{key}": value for key, value in params.items()}


def _order_params(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "channel": order.channel,
        "external_id": order.external_id,
        "customer_id": order.customer.id,
        "customer_name": order.customer.name,
        "customer_phone": order.customer.phone,
        "province": order.address.province,
        "city": order.address.city,
        "district": order.address.district,
        "line1": order.address.line1,
        "postal_code": order.address.postal_code,
        "lines": json.dumps(
            [
                [
                    ln.sku,
                    ln.name,
                    ln.quantity,
                    ln.unit_price_minor,
                    ln.discount_minor,
                    ln.total_minor,
                    ln.weight_grams,
                ]
                for ln in order.lines
            ]
        ),
        "currency": order.currency,
        "subtotal_minor": order.subtotal_minor,
        "discount_minor": order.discount_minor,
        "total_minor": order.total_minor,
        "payment_terms": order.payment_terms.value,
        "status": order.status.value,
        "tags": list(order.tags),
        "coupon_code": order.coupon_code,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "version": order.version,
    }


def _saga_params(saga: Saga) -> dict[str, Any]:
    return {
        "id": saga.id,
        "order_id": saga.order_id,
        "state": saga.state.value,
        "current_step": saga.current_step.value if saga.current_step else "",
        "direction": saga.direction.value if saga.direction else "",
        "step_log_id": saga.step_log_id,
        "step_started_at": saga.step_started_at,
        "step_deadline": saga.step_deadline,
        "step_attempts": saga.step_attempts,
        "progress": saga.progress,
        "plan": [step.value for step in saga.plan],
        "failure_reason": saga.failure_reason,
        "allocations": json.dumps([[a.sku, a.warehouse, a.quantity] for a in saga.allocations]),
        "started_at": saga.started_at,
        "updated_at": saga.updated_at,
    }


def _order(row: Any) -> Order:
    return Order(
        id=str(row.id),
        client_order_id=row.client_order_id,
        channel=row.channel,
        external_id=row.external_id,
        customer=Customer(row.customer_id, row.customer_name, row.customer_phone),
        address=Address(row.province, row.city, row.district, row.line1, row.postal_code),
        lines=tuple(PricedLine(*line) for line in _json(row.lines)),
        currency=row.currency,
        subtotal_minor=row.subtotal_minor,
        discount_minor=row.discount_minor,
        total_minor=row.total_minor,
        payment_terms=PaymentTerms(row.payment_terms),
        status=OrderStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        tags=tuple(row.tags),
        coupon_code=row.coupon_code,
        cancel_reason=row.cancel_reason,
        paid=row.paid,
        version=row.version,
    )


def _saga(row: Any) -> Saga:
    return Saga(
        id=str(row.saga_id),
        order_id=str(row.id),
        state=SagaState(row.state),
        started_at=row.saga_started_at,
        updated_at=row.saga_updated_at,
        current_step=Step(row.current_step) if row.current_step else None,
        direction=Direction(row.direction) if row.direction else None,
        step_log_id=str(row.step_log_id) if row.step_log_id else None,
        step_started_at=row.step_started_at,
        step_deadline=row.step_deadline,
        step_attempts=row.step_attempts,
        progress=row.progress,
        plan=[Step(step) for step in row.plan],
        failure_reason=row.failure_reason,
        allocations=tuple(Allocation(*a) for a in _json(row.allocations)),
    )
