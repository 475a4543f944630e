"""Outbox rows written by the order service's own set-based statements.

A plain placement (no review hold, flag, coupon, purchase limit or stored discount) writes the
order, its saga, history, first step and first messages with one autocommit statement instead of
BEGIN, INSERT, the outbox INSERT and COMMIT; a group commit of saga replies writes all its
messages with its one statement (adapters/saga_writes.py), and any other `OrderRepository.save()`
writes the messages queued before it with its own. The messages are the ones the unit of
work's `Outbox` queued (`Outbox.take_pending()`), so they are published after COMMIT exactly as
the others are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surge_platform.outbox import OutboxMessage, unnest_columns

__all__ = ["OUTBOX_CTE", "OUTBOX_ROWS_CTE", "outbox_params"]

_INSERT = "ob AS (INSERT INTO outbox (id, subject, msg_type, payload, headers) "
_ROWS = (
    "unnest(CAST(:ob_id AS uuid[]), CAST(:ob_subject AS text[]), CAST(:ob_msg_type AS text[]), "
    "CAST(:ob_payload AS bytea[]), CAST(:ob_headers AS text[])) "
    "AS x(id, subject, msg_type, payload, headers))"
)
_COLUMNS = "SELECT x.id, x.subject, x.msg_type, x.payload, CAST(x.headers AS jsonb) FROM "
# Guarded by `o` (the order's insert): a repeat placement writes no message either.
OUTBOX_CTE = f"{_INSERT}{_COLUMNS}o, {_ROWS}"
# Not guarded: the saga replies' messages of a group commit (adapters/saga_writes.py), and
# those a unit of work queued before `OrderRepository.save()`, which fails as a whole.
OUTBOX_ROWS_CTE = f"{_INSERT}{_COLUMNS}{_ROWS}"


def outbox_params(messages: Sequence[OutboxMessage]) -> dict[str, list[Any]]:
    """The parameters of `OUTBOX_CTE` / `OUTBOX_ROWS_CTE` for these messages."""
    return {f"ob_{column}": values for column, values in unnest_columns(messages).items()}
