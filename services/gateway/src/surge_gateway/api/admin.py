"""`/v1/admin/...`: operator actions for the admin role, each written to the audit log.

The same actions as `surge-order sagas list|retry|compensate`, through the same order rpcs;
dead letters and backlogs are in `admin_ops.py`. Every call (allowed or refused downstream)
leaves one `audit_log` row and one structured log line on the `surge.audit` logger:
`{"event": "audit", "actor", "action", "target", "outcome", "at", "request_id"}`.
`GET /v1/admin/audit` reads the rows back, newest first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, Field
from surge.order.v1 import order_pb2

from surge_gateway import convert, schemas
from surge_gateway.api.deps import Downstreams
from surge_gateway.audit import Audited, AuditLog, decode_cursor, encode_cursor
from surge_gateway.schemas import PRINTABLE

__all__ = ["router"]

router = APIRouter(tags=["admin"])

OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
SagaListState = Literal["parked", "stuck", "running"]
MAX_AGE_SECONDS = 366 * 24 * 3600

_FILTERS: dict[SagaListState | None, order_pb2.SagaFilter] = {
    None: order_pb2.SAGA_FILTER_UNSPECIFIED,
    "parked": order_pb2.SAGA_FILTER_PARKED,
    "stuck": order_pb2.SAGA_FILTER_STUCK,
    "running": order_pb2.SAGA_FILTER_RUNNING,
}


class SagaSummary(BaseModel):
    """A saga an operator may need to act on."""

    order_id: str
    saga_id: str
    state: str | None
    current_step: str | None
    direction: str | None
    step_attempts: int
    step_started_at: datetime | None
    step_deadline: datetime | None
    age_seconds: int
    order_status: str | None
    failure_reason: str | None


class SagaList(BaseModel):
    sagas: list[SagaSummary]


class CompensateBody(BaseModel):
    reason: str = Field(default="", max_length=500, description='default "forced by operator"')


def _summary(s: order_pb2.SagaSummary) -> SagaSummary:
    return SagaSummary(
        order_id=s.order_id,
        saga_id=s.saga_id,
        state=convert.enum_name(order_pb2.SagaState, s.state, "SAGA_STATE_"),
        current_step=s.current_step or None,
        direction=convert.enum_name(order_pb2.SagaDirection, s.direction, "SAGA_DIRECTION_"),
        step_attempts=s.step_attempts,
        step_started_at=convert.timestamp(s.step_started_at),
        step_deadline=convert.timestamp(s.step_deadline),
        age_seconds=s.age_seconds,
        order_status=convert.enum_name(order_pb2.OrderStatus, s.order_status, "ORDER_STATUS_"),
        failure_reason=s.failure_reason or None,
    )


@router.get(
    "/v1/admin/sagas",
    response_model=SagaList,
    summary="Parked, stuck or running sagas, oldest current step first (admin)",
)
async def list_sagas(
    audit: Audited,
    down: Downstreams,
    state: Annotated[
        SagaListState | None, Query(description="default: parked and in flight")
    ] = None,
    older_than: Annotated[
        int, Query(ge=0, le=MAX_AGE_SECONDS, description="seconds the current step has run")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SagaList:
    async def call() -> SagaList:
        reply = await down.orders.ListSagas(
            order_pb2.ListSagasRequest(
                filter=_FILTERS[state], older_than_seconds=older_than, page_size=limit
            ),
            timeout=down.timeout,
        )
        return SagaList(sagas=[_summary(s) for s in reply.sagas])

    return await audit("sagas.list", f"state={state or 'any'}", call)


@router.post(
    "/v1/admin/sagas/{order_id}/retry",
    status_code=202,
    response_model=schemas.OrderPublic,
    summary="Resend the current step of a parked or stalled saga (admin)",
)
async def retry_saga(order_id: OrderId, audit: Audited, down: Downstreams) -> schemas.OrderPublic:
    async def call() -> schemas.OrderPublic:
        reply = await down.orders.RetrySaga(
            order_pb2.RetrySagaRequest(order_id=order_id, actor=audit.actor),
            timeout=down.timeout,
        )
        return convert.order_public(reply.order)

    return await audit("sagas.retry", order_id, call)


@router.post(
    "/v1/admin/sagas/{order_id}/compensate",
    status_code=202,
    response_model=schemas.OrderPublic,
    summary="Cancel the order and compensate its saga now (admin)",
)
async def compensate_saga(
    order_id: OrderId,
    audit: Audited,
    down: Downstreams,
    body: Annotated[CompensateBody | None, Body()] = None,
) -> schemas.OrderPublic:
    async def call() -> schemas.OrderPublic:
        reply = await down.orders.CompensateSaga(
            order_pb2.CompensateSagaRequest(
                order_id=order_id, actor=audit.actor, reason=body.reason if body else ""
            ),
            timeout=down.timeout,
        )
        return convert.order_public(reply.order)

    return await audit("sagas.compensate", order_id, call)


class AuditRecord(BaseModel):
    """One audited admin action."""

    id: int
    actor: str = Field(description="kind:subject of the caller, e.g. user:ops-lead")
    action: str = Field(description="e.g. sagas.retry, dead_letters.redrive")
    target: str
    outcome: str = Field(description='"ok", a gRPC status name or an HTTP status')
    at: datetime
    request_id: str


class AuditList(BaseModel):
    items: list[AuditRecord]
    next_cursor: str | None = Field(description="pass as cursor for the next (older) page")


@router.get(
    "/v1/admin/audit",
    response_model=AuditList,
    summary="The admin audit trail, newest first (admin)",
)
async def list_audit(
    audit: Audited,
    request: Request,
    cursor: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditList:
    log: AuditLog = request.app.state.audit_log
    page = await log.page(decode_cursor(cursor) if cursor else None, limit, action)
    return AuditList(
        items=[AuditRecord(**vars(entry)) for entry in page.entries],
        next_cursor=encode_cursor(page.next_before) if page.next_before is not None else None,
    )
