"""Operator actions every service shares: dead letters and backlogs.

Dead letters live in the `<PREFIX>_DLQ` stream on `<prefix>.dlq.<durable>`; a service's durable
consumers are named `<service>-...`, so each service sees only its own. Redrive republishes a
dead letter to its original subject under a fresh `Nats-Msg-Id` (the stream would otherwise drop
it as a duplicate) but keeps `Surge-Message-Id`, so a message that was somehow applied meanwhile
is still applied only once (the consumer's inbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from surge_platform.messaging import (
    CONTEXTS,
    HEADER_DLQ_CONSUMER,
    HEADER_DLQ_DELIVERIES,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SUBJECT,
    HEADER_MESSAGE_ID,
    HEADER_TYPE,
    Topology,
)

__all__ = ["Backlog", "DeadLetter", "DeadLetters", "backlog"]

_DLQ_HEADERS = (HEADER_DLQ_REASON, HEADER_DLQ_SUBJECT, HEADER_DLQ_CONSUMER, HEADER_DLQ_DELIVERIES)


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    consumer: str
    subject: str
    message_type: str
    message_id: str
    reason: str
    deliveries: int
    at: datetime | None
    headers: dict[str, str]
    data: bytes


class DeadLetters:
    """List, inspect, redrive and purge one service's dead letters."""

    def __init__(self, js: JetStreamContext, topology: Topology, service: str) -> None:
        self._js = js
        self._topology = topology
        self._service = service

    async def list(self, limit: int = 1000) -> list[DeadLetter]:
        info = await self._js.stream_info(self._topology.dlq_stream)
        found: list[DeadLetter] = []
        if not info.state.messages:
            return found
        for sequence in range(max(1, info.state.first_seq), info.state.last_seq + 1):
            letter = await self.get(sequence)
            if letter is not None:
                found.append(letter)
                if len(found) >= limit:
                    break
        return found

    async def get(self, sequence: int) -> DeadLetter | None:
        try:
            raw = await self._js.get_msg(self._topology.dlq_stream, sequence)
        except NotFoundError:
            return None
        headers = dict(raw.headers or {})
        consumer = headers.get(HEADER_DLQ_CONSUMER, "")
        if not consumer.startswith(f"{self._service}-"):
            return None
        return DeadLetter(
            sequence=sequence,
            consumer=consumer,
            subject=headers.get(HEADER_DLQ_SUBJECT, ""),
            message_type=headers.get(HEADER_TYPE, ""),
            message_id=headers.get(HEADER_MESSAGE_ID, ""),
            reason=headers.get(HEADER_DLQ_REASON, ""),
            deliveries=int(headers.get(HEADER_DLQ_DELIVERIES, "0") or 0),
            at=getattr(raw, "time", None),
            headers=headers,
            data=raw.data or b"",
        )

    async def redrive(self, sequence: int) -> DeadLetter:
        letter = await self.require(sequence)
        headers = {k: v for k, v in letter.headers.items() if k not in _DLQ_HEADERS}
        headers["Nats-Msg-Id"] = f"redrive:{letter.message_id}:{sequence}"
        await self._js.publish(letter.subject, letter.data, headers=headers)
        await self._js.delete_msg(self._topology.dlq_stream, sequence)
        return letter

    async def purge(self, sequence: int) -> DeadLetter:
        letter = await self.require(sequence)
        await self._js.delete_msg(self._topology.dlq_stream, sequence)
        return letter

    async def depth(self, consumers: Iterable[str] = ()) -> dict[str, int]:
        """Dead letters per durable of this service, counted by the server (no message read).

        `consumers` are reported even at zero, so a gauge falls back to 0 after a purge.
        """
        info = await self._js.stream_info(
            self._topology.dlq_stream, subjects_filter=self._topology.dlq_subject("*")
        )
        counts = dict.fromkeys(consumers, 0)
        prefix = self._topology.dlq_subject("")
        for subject, count in (info.state.subjects or {}).items():
            durable = subject.removeprefix(prefix)
            if durable.startswith(f"{self._service}-"):
                counts[durable] = count
        return counts

    async def require(self, sequence: int) -> DeadLetter:
        letter = await self.get(sequence)
        if letter is None:
            raise LookupError(f"no dead letter #{sequence} for {self._service}")
        return letter


@dataclass(frozen=True)
class Backlog:
    outbox_rows: int
    outbox_oldest_seconds: float
    consumers: dict[str, tuple[int, int]]  # durable -> (pending, ack pending)


async def backlog(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, service: str
) -> Backlog:
    """The outbox rows not yet published and each of the service's consumers' lag."""
    async with engine.connect() as conn:
        rows, age = (
            await conn.execute(
                text(
                    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                    "FROM outbox"
                )
            )
        ).one()
    consumers: dict[str, tuple[int, int]] = {}
    for context in CONTEXTS:
        for kind in ("cmd", "evt"):
            try:
                infos = await js.consumers_info(topology.stream(context, kind))
            except NotFoundError:
                continue
            for info in infos:
                name = info.name or ""
                if name.startswith(f"{service}-"):
                    consumers[name] = (info.num_pending or 0, info.num_ack_pending or 0)
    return Backlog(int(rows), float(age), consumers)
