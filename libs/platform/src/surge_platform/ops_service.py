"""`surge.operations.v1.OperationsService` in every service, and the platform's own gauges.

The same dead-letter and backlog code as the `surge-<name> dlq|backlog` commands, over gRPC so
the gateway's admin routes reach every service the same way. `serve()` registers it; services
do nothing. Redrive and purge check every sequence first, so a request naming one unknown
dead letter changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.operations.v1 import operations_pb2 as pb
from surge.operations.v1 import operations_pb2_grpc as pb_grpc

from surge_platform import errors
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology
from surge_platform.operations import DeadLetter, DeadLetters, backlog
from surge_platform.telemetry import PlatformMetrics

__all__ = ["SERVICE_NAME", "Collector", "OperationsServicer", "collect_periodically"]

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OperationsService"].full_name
MAX_PAGE = 10_000

Context = grpc.aio.ServicerContext[object, object]
Collector = Callable[[], Awaitable[None]]

_log = get_logger("surge.operations")


def to_proto(letter: DeadLetter) -> pb.DeadLetter:
    message = pb.DeadLetter(
        sequence=letter.sequence,
        consumer=letter.consumer,
        subject=letter.subject,
        message_type=letter.message_type,
        message_id=letter.message_id,
        reason=letter.reason,
        deliveries=letter.deliveries,
        headers=letter.headers,
        data=letter.data,
    )
    if letter.at is not None:
        at = Timestamp()
        at.FromDatetime(letter.at)
        message.dead_lettered_at.CopyFrom(at)
    return message


class OperationsServicer(pb_grpc.OperationsServiceServicer):
    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        topology: Topology,
        service: str,
        consumers: Iterable[str] = (),
    ) -> None:
        self._engine = engine
        self._js = js
        self._topology = topology
        self._service = service
        self._consumers = tuple(consumers)
        self._letters = DeadLetters(js, topology, service)

    async def ListDeadLetters(  # noqa: N802 - gRPC method names
        self, request: pb.ListDeadLettersRequest, context: Context
    ) -> pb.ListDeadLettersResponse:
        if not 0 <= request.page_size <= MAX_PAGE:
            raise errors.InvalidArgument(
                "bad page size", {"page_size": f"must be between 0 and {MAX_PAGE}"}
            )
        found = await self._letters.list(request.page_size or 1000)
        return pb.ListDeadLettersResponse(dead_letters=[to_proto(letter) for letter in found])

    async def GetDeadLetter(  # noqa: N802
        self, request: pb.GetDeadLetterRequest, context: Context
    ) -> pb.GetDeadLetterResponse:
        [letter] = await self._resolve([request.sequence], everything=False)
        return pb.GetDeadLetterResponse(dead_letter=to_proto(letter))

    async def RedriveDeadLetters(  # noqa: N802
        self, request: pb.RedriveDeadLettersRequest, context: Context
    ) -> pb.RedriveDeadLettersResponse:
        done = []
        for letter in await self._resolve(request.sequences, everything=request.all):
            done.append(to_proto(await self._letters.redrive(letter.sequence)))
        _log.info("dead letters redriven", actor=request.actor, sequences=_numbers(done))
        return pb.RedriveDeadLettersResponse(dead_letters=done)

    async def PurgeDeadLetters(  # noqa: N802
        self, request: pb.PurgeDeadLettersRequest, context: Context
    ) -> pb.PurgeDeadLettersResponse:
        done = []
        for letter in await self._resolve(request.sequences, everything=request.all):
            done.append(to_proto(await self._letters.purge(letter.sequence)))
        _log.info("dead letters purged", actor=request.actor, sequences=_numbers(done))
        return pb.PurgeDeadLettersResponse(dead_letters=done)

    async def GetBacklog(  # noqa: N802
        self, request: pb.GetBacklogRequest, context: Context
    ) -> pb.GetBacklogResponse:
        found = await backlog(self._engine, self._js, self._topology, self._service)
        depth = await self._letters.depth(self._consumers)
        age = Duration()
        age.FromMilliseconds(round(found.outbox_oldest_seconds * 1000))
        return pb.GetBacklogResponse(
            service=self._service,
            outbox_rows=found.outbox_rows,
            outbox_oldest_age=age,
            consumers=[
                pb.ConsumerLag(consumer=name, pending=pending, ack_pending=ack_pending)
                for name, (pending, ack_pending) in sorted(found.consumers.items())
            ],
            dead_letters=sum(depth.values()),
        )

    async def _resolve(self, sequences: Sequence[int], everything: bool) -> list[DeadLetter]:
        if everything:
            return await self._letters.list(MAX_PAGE)
        if not sequences:
            raise errors.InvalidArgument(
                "name dead letters or ask for all", {"sequences": "at least one, or all"}
            )
        found = []
        for sequence in sequences:
            letter = await self._letters.get(sequence)
            if letter is None:
                raise errors.NotFound(f"no dead letter #{sequence} for {self._service}")
            found.append(letter)
        return found

    def dead_letter_gauge(self, metrics: PlatformMetrics) -> Collector:
        """A collector setting `surge_dead_letter_messages{consumer}` from the server's counts."""

        async def collect() -> None:
            for consumer, count in (await self._letters.depth(self._consumers)).items():
                metrics.dead_letters.labels(consumer).set(count)

        return collect


def _numbers(letters: Iterable[pb.DeadLetter]) -> list[int]:
    return [letter.sequence for letter in letters]


async def collect_periodically(
    collectors: Sequence[Collector], every: float, stop: asyncio.Event
) -> None:
    """Refresh gauges from cheap queries every `every` seconds, never on scrape.

    A failing collector is logged and retried next round; the others still run.
    """
    while not stop.is_set():
        for collect in collectors:
            try:
                await collect()
            except Exception:
                _log.warning("gauge collector failed", collector=_name(collect), exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


def _name(collect: Collector) -> str:
    return getattr(collect, "__qualname__", repr(collect))
