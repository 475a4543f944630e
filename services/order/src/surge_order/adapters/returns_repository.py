"""SQL for returns (SQLAlchemy Core `text()`): a return and its saga are one row; the step log
is appended with it. Callers lock the order (`OrderRepository.lock`) before the return, always
in that order, so two returns of one order can never over-claim its units.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from surge_order.domain.returns import (
    Restock,
    Return,
    ReturnKind,
    ReturnLine,
    ReturnState,
    ReturnStep,
)

__all__ = ["ReturnRepository"]

_COLUMNS = (
    "id, order_id, customer_id, kind, state, reason, note, currency, amount_minor, lines, "
    "restock, requested_by, decided_by, step, step_deadline, step_attempts, failure_reason, "
    "credit_note_id, credit_note_number, requested_at, decided_at, received_at, refunded_at, "
    "escalated_at, updated_at"
)
_VALUES = ", ".join(
    f"CAST(:{c} AS jsonb)" if c in ("lines", "restock") else f":{c}" for c in _COLUMNS.split(", ")
)
_UPSERT = text(
    f"INSERT INTO returns ({_COLUMNS}) VALUES ({_VALUES}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS.split(", ")[4:])
)
_GET = text(f"SELECT {_COLUMNS} FROM returns WHERE id = CAST(:id AS uuid)")
_LOCK = text(f"SELECT {_COLUMNS} FROM returns WHERE id = CAST(:id AS uuid) FOR UPDATE")
_OF_ORDER = text(
    f"SELECT {_COLUMNS} FROM returns WHERE order_id = CAST(:order_id AS uuid) "
    "ORDER BY requested_at, id"
)
_DUE = text(
    f"SELECT {_COLUMNS} FROM returns WHERE step_deadline <= :now "
    "ORDER BY step_deadline LIMIT :limit FOR UPDATE SKIP LOCKED"
)
# Claimed and stamped in one statement: with several replicas each return is escalated once.
_ESCALATE = text(
    "UPDATE returns SET escalated_at = :now WHERE id IN ("
    " SELECT id FROM returns WHERE escalated_at IS NULL AND state IN ('requested', 'approved')"
    " AND requested_at <= :cutoff ORDER BY requested_at LIMIT :limit FOR UPDATE SKIP LOCKED) "
    "RETURNING id, order_id, state, requested_at"
)
_LOG = text(
    "INSERT INTO return_steps (return_id, step, event, at) "
    "SELECT CAST(:return_id AS uuid), s, e, :at "
    "FROM unnest(CAST(:steps AS text[]), CAST(:events AS text[])) AS u(s, e)"
)
_STEPS = text(
    "SELECT step, event, at FROM return_steps WHERE return_id = CAST(:id AS uuid) ORDER BY id"
)
_DELIVERED_AT = text(
    "SELECT max(delivered_at) FROM order_shipments WHERE order_id = CAST(:order_id AS uuid)"
)
_ORDER_OF = text("SELECT order_id FROM returns WHERE id = CAST(:id AS uuid)")


class ReturnRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def save(self, ret: Return) -> None:
        """Insert or update the return and append its new step-log entries."""
        await self._connection.execute(_UPSERT, _params(ret))
        if ret.log:
            await self._connection.execute(
                _LOG,
                {
                    "return_id": ret.id,
                    "steps": [step.value for step, _ in ret.log],
                    "events": [event for _, event in ret.log],
                    "at": ret.updated_at,
                },
            )
            ret.log.clear()

    async def get(self, return_id: str) -> Return | None:
        row = (await self._connection.execute(_GET, {"id": return_id})).first()
        return _return(row) if row else None

    async def lock(self, return_id: str) -> Return | None:
        row = (await self._connection.execute(_LOCK, {"id": return_id})).first()
        return _return(row) if row else None

    async def order_of(self, return_id: str) -> str | None:
        row = (await self._connection.execute(_ORDER_OF, {"id": return_id})).first()
        return str(row.order_id) if row else None

    async def of_order(self, order_id: str) -> list[Return]:
        rows = (await self._connection.execute(_OF_ORDER, {"order_id": order_id})).all()
        return [_return(row) for row in rows]

    async def due(self, now: datetime, limit: int) -> list[Return]:
        rows = (await self._connection.execute(_DUE, {"now": now, "limit": limit})).all()
        return [_return(row) for row in rows]

    async def escalate(self, now: datetime, cutoff: datetime, limit: int) -> list[Any]:
        """Stamp open returns requested before `cutoff` and never escalated; returns their rows
        (id, order_id, state, requested_at)."""
        params = {"now": now, "cutoff": cutoff, "limit": limit}
        return list((await self._connection.execute(_ESCALATE, params)).all())

    async def steps(self, return_id: str) -> list[tuple[str, str, datetime]]:
        rows = (await self._connection.execute(_STEPS, {"id": return_id})).all()
        return [(row.step, row.event, row.at) for row in rows]

    async def delivered_at(self, order_id: str) -> datetime | None:
        row = (await self._connection.execute(_DELIVERED_AT, {"order_id": order_id})).first()
        return row[0] if row else None


def _params(ret: Return) -> dict[str, Any]:
    return {
        "id": ret.id,
        "order_id": ret.order_id,
        "customer_id": ret.customer_id,
        "kind": ret.kind.value,
        "state": ret.state.value,
        "reason": ret.reason,
        "note": ret.note,
        "currency": ret.currency,
        "amount_minor": ret.amount_minor,
        "lines": json.dumps(
            [
                {
                    "sku": ln.sku,
                    "quantity": ln.quantity,
                    "amount_minor": ln.amount_minor,
                    "resellable": ln.resellable,
                    "damaged": ln.damaged,
                }
                for ln in ret.lines
            ]
        ),
        "restock": json.dumps(
            [{"sku": r.sku, "warehouse": r.warehouse, "quantity": r.quantity} for r in ret.restock]
        ),
        "requested_by": ret.requested_by,
        "decided_by": ret.decided_by,
        "step": ret.step.value if ret.step else "",
        "step_deadline": ret.step_deadline,
        "step_attempts": ret.step_attempts,
        "failure_reason": ret.failure_reason,
        "credit_note_id": ret.credit_note_id,
        "credit_note_number": ret.credit_note_number,
        "requested_at": ret.requested_at,
        "decided_at": ret.decided_at,
        "received_at": ret.received_at,
        "refunded_at": ret.refunded_at,
        "escalated_at": ret.escalated_at,
        "updated_at": ret.updated_at,
    }


def _json(raw: str | Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    return json.loads(raw) if isinstance(raw, str) else raw


def _return(row: Any) -> Return:
    return Return(
        id=str(row.id),
        order_id=str(row.order_id),
        customer_id=row.customer_id,
        kind=ReturnKind(row.kind),
        state=ReturnState(row.state),
        reason=row.reason,
        note=row.note,
        currency=row.currency,
        lines=tuple(ReturnLine(**item) for item in _json(row.lines)),
        restock=tuple(Restock(**item) for item in _json(row.restock)),
        requested_by=row.requested_by,
        decided_by=row.decided_by,
        step=ReturnStep(row.step) if row.step else None,
        step_deadline=row.step_deadline,
        step_attempts=row.step_attempts,
        failure_reason=row.failure_reason,
        credit_note_id=row.credit_note_id,
        credit_note_number=row.credit_note_number,
        requested_at=row.requested_at,
        decided_at=row.decided_at,
        received_at=row.received_at,
        refunded_at=row.refunded_at,
        escalated_at=row.escalated_at,
        updated_at=row.updated_at,
    )
