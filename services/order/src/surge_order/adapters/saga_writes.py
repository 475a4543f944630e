"""The saga replies' writes of one group commit, sent with one statement per batch.

A reply handler's `OrderRepository.save()` would cost a round trip per message; inside a group
commit of the saga durables it queues its rows here instead (`SqlUnitOfWork.deferred`), and the
batch writes every order, history row, saga, step, shipment and outgoing message (the batch
outbox's, `Outbox.take_pending()`) with one statement of unnest CTEs just before it commits.
The orders are locked (`lock_chunk` or `lock()`, FOR UPDATE) from the read to the commit, so
the optimistic version
check keeps its meaning: it is checked for all of them at the flush, and a mismatch fails the
batch, which the consumer then replays message by message (where `save()` writes at once). A
later read of a queued order in the same batch flushes first (`OrderRepository` asks `holds()`),
so every read sees every write before it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import current_batch, raw_fetchrow

from surge_order.adapters.outbox_rows import OUTBOX_ROWS_CTE, outbox_params
from surge_order.domain.model import Order

__all__ = ["SagaWrites"]

# One data-modifying CTE per part; a flush names only the parts with rows (`_flush_statement`).
_CTES: dict[str, str] = {
    "o": (
        "o AS (UPDATE orders SET status = x.status, cancel_reason = x.cancel_reason, "
        " paid = x.paid, updated_at = x.updated_at, version = x.version "
        " FROM unnest(CAST(:o_id AS uuid[]), CAST(:o_status AS text[]), "
        " CAST(:o_cancel_reason AS text[]), CAST(:o_paid AS boolean[]), "
        " CAST(:o_updated_at AS timestamptz[]), CAST(:o_version AS bigint[]), "
        " CAST(:o_expected AS bigint[])) "
        " AS x(id, status, cancel_reason, paid, updated_at, version, expected) "
        " WHERE orders.id = x.id AND orders.version = x.expected RETURNING orders.id)"
    ),
    "h": (
        "h AS (INSERT INTO order_status_history (order_id, from_status, to_status, reason, at) "
        " SELECT * FROM unnest(CAST(:h_order AS uuid[]), CAST(:h_from AS text[]), "
        " CAST(:h_to AS text[]), CAST(:h_reason AS text[]), CAST(:h_at AS timestamptz[])))"
    ),
    "s": (
        "s AS (UPDATE sagas SET state = x.state, current_step = x.current_step, "
        " direction = x.direction, step_log_id = x.step_log_id, "
        " step_started_at = x.step_started_at, "
        " step_deadline = x.step_deadline, step_attempts = x.step_attempts, "
        " progress = x.progress, "
        " plan = ARRAY(SELECT jsonb_array_elements_text(CAST(x.plan AS jsonb))), "
        " failure_reason = x.failure_reason, allocations = CAST(x.allocations AS jsonb), "
        " updated_at = x.updated_at "
        " FROM unnest(CAST(:s_id AS uuid[]), CAST(:s_state AS text[]), "
        " CAST(:s_current_step AS text[]), CAST(:s_direction AS text[]), "
        " CAST(:s_step_log_id AS uuid[]), CAST(:s_step_started_at AS timestamptz[]), "
        " CAST(:s_step_deadline AS timestamptz[]), CAST(:s_step_attempts AS int[]), "
        " CAST(:s_progress AS int[]), CAST(:s_plan AS text[]), "
        " CAST(:s_failure_reason AS text[]), "
        " CAST(:s_allocations AS text[]), CAST(:s_updated_at AS timestamptz[])) "
        " AS x(id, state, current_step, direction, step_log_id, step_started_at, step_deadline, "
        " step_attempts, progress, plan, failure_reason, allocations, updated_at) "
        " WHERE sagas.id = x.id)"
    ),
    "su": (
        "su AS (UPDATE saga_steps SET status = coalesce(x.status, saga_steps.status), "
        " attempts = x.attempts, finished_at = coalesce(x.finished_at, saga_steps.finished_at), "
        " failure_reason = coalesce(x.failure_reason, saga_steps.failure_reason) "
        " FROM unnest(CAST(:su_id AS uuid[]), CAST(:su_attempts AS int[]), "
        " CAST(:su_status AS text[]), CAST(:su_finished_at AS timestamptz[]), "
        " CAST(:su_failure_reason AS text[])) "
        " AS x(id, attempts, status, finished_at, failure_reason) "
        " WHERE saga_steps.id = x.id)"
    ),
    "si": (
        "si AS (INSERT INTO saga_steps (id, saga_id, step, direction, status, attempts, "
        " started_at) SELECT x.id, x.saga_id, x.step, x.direction, 'started', x.attempts, "
        " x.started_at FROM unnest(CAST(:si_id AS uuid[]), CAST(:si_saga_id AS uuid[]), "
        " CAST(:si_step AS text[]), CAST(:si_direction AS text[]), CAST(:si_attempts AS int[]), "
        " CAST(:si_started_at AS timestamptz[])) "
        " AS x(id, saga_id, step, direction, attempts, started_at))"
    ),
    "sh": (
        "sh AS (INSERT INTO order_shipments (shipment_id, order_id, warehouse) "
        " SELECT * FROM unnest(CAST(:sh_id AS text[]), CAST(:sh_order AS uuid[]), "
        " CAST(:sh_warehouse AS text[])) ON CONFLICT DO NOTHING)"
    ),
    "ob": OUTBOX_ROWS_CTE,
}


@functools.cache
def _flush_statement(parts: tuple[str, ...]) -> TextClause:
    """The flush of these parts only: a reply handled alone fills three or four of the seven,
    and every array sent, even empty, costs encoding and planning. A handful of variants."""
    tail = "SELECT count(*) FROM o" if "o" in parts else "SELECT 0"
    return text(f"WITH {', '.join(_CTES[part] for part in parts)} {tail}")


# Column order of each part, as `_CTES` names its parameters.
_PARTS: dict[str, tuple[str, ...]] = {
    "o": ("id", "status", "cancel_reason", "paid", "updated_at", "version", "expected"),
    "h": ("order", "from", "to", "reason", "at"),
    "s": (
        "id",
        "state",
        "current_step",
        "direction",
        "step_log_id",
        "step_started_at",
        "step_deadline",
        "step_attempts",
        "progress",
        "plan",
        "failure_reason",
        "allocations",
        "updated_at",
    ),
    "su": ("id", "attempts", "status", "finished_at", "failure_reason"),
    "si": ("id", "saga_id", "step", "direction", "attempts", "started_at"),
    "sh": ("id", "order", "warehouse"),
}


class SagaWrites:
    """Rows queued by the saga handlers of one group commit (`Deferred`), one statement each
    flush. Each order appears at most once between two flushes (`holds()` then flushes)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._orders: set[str] = set()
        self._saved: set[str] = set()  # orders with a queued order or saga row
        self._rows: dict[str, list[Sequence[Any]]] = {part: [] for part in _PARTS}
        # Only made inside a group commit: its handlers' messages go out with this statement.
        batch = current_batch()
        assert batch is not None
        self._outbox = batch.outbox

    def holds(self, order_id: str) -> bool:
        """True if a write of this order (or its saga or shipments) waits for the flush."""
        return order_id in self._orders

    def saved(self, order_id: str) -> bool:
        """True if this order's row or its saga's is queued (an UPDATE FROM unnest must name a
        row at most once, so a second save of it flushes first)."""
        return order_id in self._saved

    def _append(self, part: str, row: Sequence[Any]) -> None:
        self._rows[part].append(row)

    def order(self, order: Order, expected: int) -> None:
        """Update of the order from version `expected`, with its status history."""
        self._orders.add(order.id)
        self._saved.add(order.id)
        self._append(
            "o",
            (
                order.id,
                order.status.value,
                order.cancel_reason,
                order.paid,
                order.updated_at,
                order.version,
                expected,
            ),
        )
        for c in order.changes:
            from_status = c.from_status.value if c.from_status else None
            self._append("h", (order.id, from_status, c.to_status.value, c.reason, c.at))
        order.changes.clear()

    def saga(self, order_id: str, params: Mapping[str, Any]) -> None:
        """Update of the saga, from the repository's saga parameters (plan as a JSON array)."""
        self._orders.add(order_id)
        self._saved.add(order_id)
        row = [params[column] for column in _PARTS["s"]]
        row[_PARTS["s"].index("plan")] = json.dumps(params["plan"])
        self._append("s", row)

    def finish_step(self, order_id: str, row: Sequence[Any]) -> None:
        self._orders.add(order_id)
        self._append("su", row)

    def start_step(self, order_id: str, row: Sequence[Any]) -> None:
        self._orders.add(order_id)
        self._append("si", row)

    def shipments(self, order_id: str, shipments: Sequence[tuple[str, str]]) -> None:
        self._orders.add(order_id)
        for shipment_id, warehouse in shipments:
            self._append("sh", (shipment_id, order_id, warehouse))

    async def flush(self) -> None:
        messages = self._outbox.take_pending()
        if not self._orders and not messages:
            return
        parts: list[str] = []
        params: dict[str, list[Any]] = {}
        for part, columns in _PARTS.items():
            rows, self._rows[part] = self._rows[part], []
            if not rows:
                continue
            parts.append(part)
            params.update(
                (f"{part}_{column}", list(values))
                for column, values in zip(columns, zip(*rows, strict=True), strict=True)
            )
        if messages:
            parts.append("ob")
            params.update(outbox_params(messages))
        self._orders.clear()
        self._saved.clear()
        expected = len(params.get("o_id", ()))
        row = await raw_fetchrow(self._connection, _flush_statement(tuple(parts)), params)
        assert row is not None  # an aggregate: always one row
        if row[0] != expected:
            # Cannot happen while the orders stay locked; fails (and so replays) the batch.
            raise RuntimeError(f"{expected - row[0]} of {expected} orders changed concurrently")
