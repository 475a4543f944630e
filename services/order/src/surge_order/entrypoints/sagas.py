"""Operator views and actions on sagas: list parked/stuck/running ones, force compensation.

`ListSagas` is a read-side query (one SELECT, no lock); `compensate_saga` locks the order like
every other saga action and commits once. Both are served by `OrderServicer` and used by the
`surge-order sagas ...` command through the gRPC API (see `entrypoints/cli.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf import timestamp_pb2
from sqlalchemy import text
from surge.order.v1 import order_pb2
from surge_platform import errors

from surge_order.domain.saga import Direction, SagaState
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import handlers
from surge_order.service_layer.saga import Orchestrator

__all__ = ["CONDITIONS", "FORCED_REASON", "compensate_saga", "list_sagas"]

FORCED_REASON = "forced by operator"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


_IN_FLIGHT = "s.state IN ('running', 'compensating')"
_PARKED = "s.state = 'compensation_failed'"
# SQL condition per `order_pb2.SagaFilter`: fixed strings, never built from input.
CONDITIONS: dict[int, str] = {
    order_pb2.SAGA_FILTER_UNSPECIFIED: f"({_IN_FLIGHT} OR {_PARKED})",
    order_pb2.SAGA_FILTER_PARKED: _PARKED,
    order_pb2.SAGA_FILTER_STUCK: (
        f"{_IN_FLIGHT} AND (s.step_attempts > 1 OR s.step_deadline <= :now)"
    ),
    order_pb2.SAGA_FILTER_RUNNING: _IN_FLIGHT,
}


@dataclass(frozen=True)
class _Row:
    order_id: str
    saga_id: str
    state: str
    current_step: str | None
    direction: str | None
    step_attempts: int
    step_started_at: datetime | None
    step_deadline: datetime | None
    failure_reason: str | None
    order_status: str
    since: datetime


def _ts(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _enum(prefix: str, value: str) -> Any:
    return getattr(order_pb2, f"{prefix}_{value.upper()}")


def _summary(row: _Row, now: datetime) -> order_pb2.SagaSummary:
    return order_pb2.SagaSummary(
        order_id=row.order_id,
        saga_id=row.saga_id,
        state=_enum("SAGA_STATE", SagaState(row.state).value),
        current_step=row.current_step or "",
        direction=(
            _enum("SAGA_DIRECTION", Direction(row.direction).value)
            if row.direction
            else order_pb2.SAGA_DIRECTION_UNSPECIFIED
        ),
        step_attempts=row.step_attempts,
        step_started_at=_ts(row.step_started_at),
        step_deadline=_ts(row.step_deadline),
        failure_reason=row.failure_reason or "",
        order_status=_enum("ORDER_STATUS", OrderStatus(row.order_status).value),
        age_seconds=max(0, int((now - row.since).total_seconds())),
    )


async def list_sagas(
    request: order_pb2.ListSagasRequest, uows: handlers.UowFactory
) -> list[order_pb2.SagaSummary]:
    """Sagas matching the filter, oldest current step first."""
    if request.older_than_seconds < 0 or request.page_size < 0:
        raise errors.InvalidArgument(
            "bad list request",
            {
                name: "must not be negative"
                for name in ("older_than_seconds", "page_size")
                if getattr(request, name) < 0
            },
        )
    condition = CONDITIONS.get(request.filter)
    if condition is None:
        raise errors.InvalidArgument("unknown filter", {"filter": "unknown value"})
    now = datetime.now(UTC)
    query = text(
        "SELECT CAST(s.order_id AS text) AS order_id, CAST(s.id AS text) AS saga_id, "
        "s.state, s.current_step, s.direction, "
        "s.step_attempts, s.step_started_at, s.step_deadline, s.failure_reason, "
        "o.status AS order_status, coalesce(s.step_started_at, s.updated_at) AS since "
        "FROM sagas s JOIN orders o ON o.id = s.order_id "
        f"WHERE {condition} AND coalesce(s.step_started_at, s.updated_at) <= :cutoff "
        "ORDER BY since LIMIT :limit"
    )
    cutoff = datetime.fromtimestamp(now.timestamp() - request.older_than_seconds, UTC)
    limit = min(request.page_size or DEFAULT_LIMIT, MAX_LIMIT)
    async with uows() as uow:
        rows = (
            await uow.connection.execute(query, {"now": now, "cutoff": cutoff, "limit": limit})
        ).all()
    return [_summary(_Row(**row._mapping), now) for row in rows]


async def compensate_saga(
    request: order_pb2.CompensateSagaRequest,
    uows: handlers.UowFactory,
    orchestrator: Orchestrator,
) -> handlers.OrderView:
    """Cancel the order and compensate its saga now (`Orchestrator.force_compensate`)."""
    try:
        order_id = str(uuid.UUID(request.order_id))
    except ValueError:
        raise errors.InvalidArgument("bad order id", {"order_id": "must be a UUID"}) from None
    reason = request.reason.strip() or FORCED_REASON
    async with uows() as uow:
        locked = await uow.orders.lock(order_id)
        if locked is None:
            raise errors.NotFound(f"order {request.order_id} does not exist")
        order, saga = locked
        await orchestrator.force_compensate(uow, order, saga, reason, datetime.now(UTC))
        await orchestrator.save(uow, order, saga)
        await uow.commit()
    return await handlers.get_order(order.id, uows)
