"""`/v1/admin/services/{service}/dead-letters` and `/v1/admin/backlog` (admin, audited).

The same actions as `surge-<service> dlq list|show|redrive|purge` and `surge-<service> backlog`,
through the `surge.operations.v1.OperationsService` every service serves.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

import grpc
from fastapi import APIRouter, Body, Path, Query
from google.protobuf import symbol_database
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError
from pydantic import BaseModel, Field, model_validator
from surge.operations.v1 import operations_pb2 as pb

from surge_gateway import convert
from surge_gateway.api.deps import Downstreams
from surge_gateway.audit import Audited

__all__ = ["router"]

router = APIRouter(tags=["admin"])

ServiceName = Literal["order", "inventory", "fulfillment", "billing"]
SERVICES: tuple[str, ...] = get_args(ServiceName)
Service = Annotated[ServiceName, Path(description="the service whose dead letters these are")]
SequenceNo = Annotated[int, Path(ge=1, le=2**63 - 1, description="number from the list")]
MAX_BATCH = 1000


class DeadLetterSummary(BaseModel):
    """A message a consumer gave up on."""

    sequence: int
    consumer: str
    subject: str
    message_type: str
    message_id: str
    reason: str
    deliveries: int
    dead_lettered_at: datetime | None


class DeadLetterDetail(DeadLetterSummary):
    headers: dict[str, str]
    data_base64: str = Field(description="the payload as sent (serialized proto)")
    payload: dict[str, Any] | None = Field(
        description="the payload decoded, when its type is known"
    )


class DeadLetterList(BaseModel):
    service: str
    dead_letters: list[DeadLetterSummary]


class DeadLetterBatch(BaseModel):
    """Either some dead letters by number, or all of the service's."""

    sequences: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        default=[], max_length=MAX_BATCH
    )
    all: bool = False

    @model_validator(mode="after")
    def one_of(self) -> DeadLetterBatch:
        if bool(self.sequences) == self.all:
            raise ValueError("give either sequences or all: true")
        return self


class DeadLettersDone(BaseModel):
    service: str
    dead_letters: list[DeadLetterSummary] = Field(description="the letters acted on")


class ConsumerLag(BaseModel):
    consumer: str
    pending: int = Field(description="messages not yet delivered")
    ack_pending: int = Field(description="delivered, not yet acknowledged")


class ServiceBacklog(BaseModel):
    service: str
    reachable: bool
    outbox_rows: int | None = None
    outbox_oldest_age_seconds: float | None = None
    consumers: list[ConsumerLag] = []
    dead_letters: int | None = None
    error: str | None = None


class Backlog(BaseModel):
    services: list[ServiceBacklog]


def _summary(letter: pb.DeadLetter) -> DeadLetterSummary:
    return DeadLetterSummary(
        sequence=letter.sequence,
        consumer=letter.consumer,
        subject=letter.subject,
        message_type=letter.message_type,
        message_id=letter.message_id,
        reason=letter.reason,
        deliveries=letter.deliveries,
        dead_lettered_at=convert.timestamp(letter.dead_lettered_at),
    )


def _decoded(letter: pb.DeadLetter) -> dict[str, Any] | None:
    """The payload as JSON when its proto type is one the gateway knows, else None."""
    try:
        message = symbol_database.Default().GetSymbol(letter.message_type)()
        message.ParseFromString(letter.data)
    except (KeyError, DecodeError):
        return None
    decoded: dict[str, Any] = MessageToDict(message, preserving_proto_field_name=True)
    return decoded


def _stub(down: Downstreams, service: str) -> Any:
    return down.operations[service]


@router.get(
    "/v1/admin/services/{service}/dead-letters",
    response_model=DeadLetterList,
    summary="A service's dead letters, oldest first (admin)",
)
async def list_dead_letters(
    service: Service,
    audit: Audited,
    down: Downstreams,
    limit: Annotated[int, Query(ge=1, le=MAX_BATCH)] = 100,
) -> DeadLetterList:
    async def call() -> DeadLetterList:
        reply = await _stub(down, service).ListDeadLetters(
            pb.ListDeadLettersRequest(page_size=limit), timeout=down.timeout
        )
        return DeadLetterList(
            service=service, dead_letters=[_summary(d) for d in reply.dead_letters]
        )

    return await audit("dead_letters.list", service, call)


@router.get(
    "/v1/admin/services/{service}/dead-letters/{sequence}",
    response_model=DeadLetterDetail,
    summary="One dead letter with its headers and payload (admin)",
)
async def show_dead_letter(
    service: Service, sequence: SequenceNo, audit: Audited, down: Downstreams
) -> DeadLetterDetail:
    async def call() -> DeadLetterDetail:
        reply = await _stub(down, service).GetDeadLetter(
            pb.GetDeadLetterRequest(sequence=sequence), timeout=down.timeout
        )
        letter = reply.dead_letter
        return DeadLetterDetail(
            **_summary(letter).model_dump(),
            headers=dict(letter.headers),
            data_base64=base64.b64encode(letter.data).decode(),
            payload=_decoded(letter),
        )

    return await audit("dead_letters.show", f"{service}#{sequence}", call)


async def _act(
    service: str,
    action: Literal["redrive", "purge"],
    batch: DeadLetterBatch,
    audit: Audited,
    down: Downstreams,
) -> DeadLettersDone:
    stub = _stub(down, service)

    async def call() -> DeadLettersDone:
        if action == "redrive":
            reply = await stub.RedriveDeadLetters(
                pb.RedriveDeadLettersRequest(
                    sequences=batch.sequences, all=batch.all, actor=audit.actor
                ),
                timeout=down.timeout,
            )
        else:
            reply = await stub.PurgeDeadLetters(
                pb.PurgeDeadLettersRequest(
                    sequences=batch.sequences, all=batch.all, actor=audit.actor
                ),
                timeout=down.timeout,
            )
        return DeadLettersDone(
            service=service, dead_letters=[_summary(d) for d in reply.dead_letters]
        )

    target = f"{service}#all" if batch.all else f"{service}#{','.join(map(str, batch.sequences))}"
    return await audit(f"dead_letters.{action}", target, call)


@router.post(
    "/v1/admin/services/{service}/dead-letters/{sequence}/redrive",
    response_model=DeadLettersDone,
    summary="Republish one dead letter to its original subject (admin)",
)
async def redrive_dead_letter(
    service: Service, sequence: SequenceNo, audit: Audited, down: Downstreams
) -> DeadLettersDone:
    return await _act(service, "redrive", DeadLetterBatch(sequences=[sequence]), audit, down)


@router.post(
    "/v1/admin/services/{service}/dead-letters/redrive",
    response_model=DeadLettersDone,
    summary="Republish some or all dead letters after the cause is fixed (admin)",
)
async def redrive_dead_letters(
    service: Service, batch: Annotated[DeadLetterBatch, Body()], audit: Audited, down: Downstreams
) -> DeadLettersDone:
    return await _act(service, "redrive", batch, audit, down)


@router.delete(
    "/v1/admin/services/{service}/dead-letters/{sequence}",
    response_model=DeadLettersDone,
    summary="Delete one dead letter for good (admin)",
)
async def purge_dead_letter(
    service: Service, sequence: SequenceNo, audit: Audited, down: Downstreams
) -> DeadLettersDone:
    return await _act(service, "purge", DeadLetterBatch(sequences=[sequence]), audit, down)


@router.post(
    "/v1/admin/services/{service}/dead-letters/purge",
    response_model=DeadLettersDone,
    summary="Delete some or all dead letters for good (admin)",
)
async def purge_dead_letters(
    service: Service, batch: Annotated[DeadLetterBatch, Body()], audit: Audited, down: Downstreams
) -> DeadLettersDone:
    return await _act(service, "purge", batch, audit, down)


@router.get(
    "/v1/admin/backlog",
    response_model=Backlog,
    summary="Every service's outbox backlog, consumer lag and dead letters (admin)",
)
async def backlog(audit: Audited, down: Downstreams) -> Backlog:
    async def one(service: str) -> ServiceBacklog:
        try:
            reply = await _stub(down, service).GetBacklog(
                pb.GetBacklogRequest(), timeout=down.timeout
            )
        except grpc.aio.AioRpcError as exc:
            # One service down must not hide the others' backlog from the operator.
            return ServiceBacklog(service=service, reachable=False, error=exc.code().name)
        return ServiceBacklog(
            service=service,
            reachable=True,
            outbox_rows=reply.outbox_rows,
            outbox_oldest_age_seconds=reply.outbox_oldest_age.ToMilliseconds() / 1000,
            consumers=[
                ConsumerLag(consumer=c.consumer, pending=c.pending, ack_pending=c.ack_pending)
                for c in reply.consumers
            ],
            dead_letters=reply.dead_letters,
        )

    async def call() -> Backlog:
        return Backlog(services=list(await asyncio.gather(*(one(s) for s in SERVICES))))

    return await audit("backlog.read", "all", call)
