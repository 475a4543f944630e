"""JetStream topology, connection and the consume loop.

Subjects are `<prefix>.<context>.cmd.<name>` and `<prefix>.<context>.evt.<name>`; each context
has one command stream and one event stream, and every service has a dead-letter subject in the
DLQ stream. The prefix (default `surge`) isolates environments and test runs sharing a server.

`JetStreamConsumer` pulls batches from a durable consumer, decodes protobuf by subject, runs the
route's handler, and acks only after the handler returned (i.e. after its transaction
committed). A failing message is redelivered with backoff up to `max_deliver` times, then copied
to the dead-letter stream with the reason and acked, so it never blocks the messages behind it.
A message that cannot be decoded goes to the dead-letter stream at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import nats
from google.protobuf.message import DecodeError, Message
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError
from opentelemetry import propagate, trace

from surge_platform.logging import get_logger
from surge_platform.pull import PullFeed
from surge_platform.telemetry import PlatformMetrics

__all__ = [
    "CONTEXTS",
    "HEADER_MESSAGE_ID",
    "HEADER_TYPE",
    "Envelope",
    "JetStreamConsumer",
    "Route",
    "Topology",
    "connect",
]

CONTEXTS = ("order", "inventory", "fulfillment", "billing")
HEADER_TYPE = "Surge-Type"
HEADER_MESSAGE_ID = "Surge-Message-Id"
HEADER_DLQ_REASON = "Surge-Dlq-Reason"
HEADER_DLQ_SUBJECT = "Surge-Dlq-Original-Subject"
HEADER_DLQ_CONSUMER = "Surge-Dlq-Consumer"
HEADER_DLQ_DELIVERIES = "Surge-Dlq-Deliveries"

DEDUP_WINDOW_SECONDS = 15 * 60
LAG_OBSERVE_SECONDS = 5.0
STREAM_MAX_AGE_SECONDS = 7 * 24 * 3600

_tracer = trace.get_tracer("surge.messaging")


@dataclass(frozen=True)
class Topology:
    """Names of every subject and stream, derived from one prefix."""

    prefix: str = "surge"

    def command(self, context: str, name: str) -> str:
        return f"{self.prefix}.{context}.cmd.{name}"

    def event(self, context: str, name: str) -> str:
        return f"{self.prefix}.{context}.evt.{name}"

    def subject_for(self, message: type[Message] | Message) -> str:
        """The subject a contract message travels on, derived from its proto name.

        `surge.inventory.v1.ReserveStockCommand` -> `<prefix>.inventory.cmd.reserve_stock`;
        `surge.inventory.v1.StockReserved` -> `<prefix>.inventory.evt.stock_reserved`.
        """
        return _subject(self.prefix, message.DESCRIPTOR.full_name)

    def stream(self, context: str, kind: str) -> str:
        return f"{self.prefix}_{context}_{kind}".upper()

    @property
    def dlq_stream(self) -> str:
        return f"{self.prefix}_dlq".upper()

    def dlq_subject(self, consumer: str) -> str:
        return f"{self.prefix}.dlq.{consumer}"

    def stream_configs(self) -> list[StreamConfig]:
        configs = [
            _stream(self.stream(ctx, kind), [f"{self.prefix}.{ctx}.{kind}.>"])
            for ctx in CONTEXTS
            for kind in ("cmd", "evt")
        ]
        configs.append(_stream(self.dlq_stream, [f"{self.prefix}.dlq.>"]))
        return configs

    async def ensure_streams(self, js: JetStreamContext) -> None:
        """Create or update every stream; safe to call from every service at start."""
        for config in self.stream_configs():
            try:
                await js.stream_info(config.name or "")
                await js.update_stream(config)
            except NotFoundError:
                await js.add_stream(config)


def _stream(name: str, subjects: list[str]) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=STREAM_MAX_AGE_SECONDS,
        duplicate_window=DEDUP_WINDOW_SECONDS,
    )


async def connect(url: str, name: str) -> NatsClient:
    """Connect with reconnects forever: NATS restarts must not take a service down."""
    return await nats.connect(
        servers=[s.strip() for s in url.split(",") if s.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        allow_reconnect=True,
    )


@dataclass(frozen=True)
class Envelope:
    """What a handler may know about the message besides its payload."""

    message_id: str
    subject: str
    headers: Mapping[str, str]
    deliveries: int


M = TypeVar("M", bound=Message)
Handler = Callable[[Any, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class Route(Generic[M]):
    """How to decode and handle one subject."""

    message_type: type[M]
    handler: Callable[[M, Envelope], Awaitable[None]]


@dataclass
class JetStreamConsumer:
    """A durable pull consumer with explicit acks, bounded redelivery and a dead-letter subject."""

    js: JetStreamContext
    topology: Topology
    stream: str
    durable: str
    routes: Mapping[str, Route[Any]]
    metrics: PlatformMetrics
    batch: int = 128
    concurrency: int = 64
    max_deliver: int = 5
    backoff: Sequence[float] = (0.5, 1.0, 2.0, 5.0, 10.0)
    ack_wait: float = 30.0
    group_commit: Callable[[], AbstractAsyncContextManager[Any]] | None = None
    group_commit_size: int = 16
    _log: Any = field(default_factory=lambda: get_logger("surge.consumer"))

    async def declare(self) -> None:
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            # One more than ours: the server must never give up before we dead-letter.
            max_deliver=self.max_deliver + 1,
            max_ack_pending=20_000,
            filter_subjects=list(self.routes),
        )
        await self.js.add_consumer(self.stream, config)

    async def run(self, stop: asyncio.Event) -> None:
        await self.declare()
        feed = PullFeed(self.js, self.stream, self.durable, window=self.batch)
        await feed.start()
        limiter = asyncio.Semaphore(self.concurrency)
        observed = 0.0
        try:
            while not stop.is_set():
                if time.monotonic() - observed > LAG_OBSERVE_SECONDS:
                    observed = time.monotonic()
                    await self.observe_lag()
                messages = await feed.take(self.batch)
                if self.group_commit is not None and len(messages) > 1:
                    # Several group commits in flight: batching saves round trips, concurrency
                    # hides their latency.
                    size = self.group_commit_size
                    await asyncio.gather(
                        *(
                            self._process_batch(messages[i : i + size], limiter)
                            for i in range(0, len(messages), size)
                        )
                    )
                elif messages:
                    await asyncio.gather(*(self._guarded(limiter, m) for m in messages))
        finally:
            await feed.stop()

    async def observe_lag(self) -> None:
        """Pending + awaiting-ack messages of this durable, for dashboards and the lag alert."""
        try:
            info = await self.js.consumer_info(self.stream, self.durable)
        except Exception:
            self._log.debug("consumer info unavailable", durable=self.durable, exc_info=True)
            return
        lag = (info.num_pending or 0) + (info.num_ack_pending or 0)
        self.metrics.consumer_pending.labels(self.durable).set(lag)

    async def _process_batch(self, messages: list[Msg], limiter: asyncio.Semaphore) -> None:
        """Group commit: apply the batch in one transaction, ack after it commits.

        Any failure (a handler error, a poison message, a unit of work that did not commit)
        rolls the whole batch back and replays it message by message, where retries and
        dead-lettering apply as usual.
        """
        started = time.perf_counter()
        assert self.group_commit is not None
        try:
            async with self.group_commit() as batch:
                decoded = [self._decode(msg) for msg in messages]
                await _claim_chunk(batch, decoded)
                before_handlers = getattr(batch, "before_handlers", None)
                if before_handlers is not None:
                    await before_handlers([payload for _, payload, _ in decoded])
                for msg, (route, payload, envelope) in zip(messages, decoded, strict=True):
                    with self._span(msg, envelope):
                        await route.handler(payload, envelope)
        except Exception as exc:
            self.metrics.consumer_batch_fallbacks.labels(self.durable).inc()
            self._log.info(
                "batch replayed one by one",
                durable=self.durable,
                size=len(messages),
                cause=_describe(exc),
            )
            await asyncio.gather(*(self._guarded(limiter, m) for m in messages))
            return
        await asyncio.gather(*(msg.ack() for msg in messages))
        for msg in messages:
            self._record(msg.subject, "ok", started)

    def _decode(self, msg: Msg) -> tuple[Route[Any], Message, Envelope]:
        headers = dict(msg.headers or {})
        deliveries = msg.metadata.num_delivered if msg.metadata else 1
        if deliveries > 1:
            self.metrics.consumer_repeated.labels(self.durable).inc()
        message_id = (
            headers.get(HEADER_MESSAGE_ID)
            or headers.get("Nats-Msg-Id")
            or f"{self.stream}:{msg.metadata.sequence.stream if msg.metadata else msg.subject}"
        )
        route = self.routes.get(msg.subject)
        if route is None:
            raise _Poison("no route for subject")
        try:
            payload = route.message_type.FromString(msg.data)
        except DecodeError as exc:
            raise _Poison(f"undecodable payload: {exc}") from exc
        return route, payload, Envelope(message_id, msg.subject, headers, deliveries)

    @contextlib.contextmanager
    def _span(self, msg: Msg, envelope: Envelope) -> Iterator[trace.Span]:
        context = propagate.extract(dict(envelope.headers))
        with _tracer.start_as_current_span(
            f"consume {msg.subject}", context=context, kind=trace.SpanKind.CONSUMER
        ) as span:
            span.set_attribute("messaging.system", "nats")
            span.set_attribute("messaging.destination.name", msg.subject)
            span.set_attribute("messaging.message.id", envelope.message_id)
            yield span

    async def _guarded(self, limiter: asyncio.Semaphore, msg: Msg) -> None:
        async with limiter:
            try:
                await self.process(msg)
            except Exception:
                # A failure to ack or dead-letter: leave it to ack_wait redelivery.
                self._log.exception("message processing failed", subject=msg.subject)

    async def process(self, msg: Msg) -> None:
        started = time.perf_counter()
        try:
            route, payload, envelope = self._decode(msg)
        except _Poison as exc:
            deliveries = msg.metadata.num_delivered if msg.metadata else 1
            await self._dead_letter(msg, dict(msg.headers or {}), deliveries, exc.reason)
            return
        with self._span(msg, envelope) as span:
            try:
                await route.handler(payload, envelope)
            except Exception as exc:
                span.record_exception(exc)
                self._record(msg.subject, "error", started)
                deliveries = envelope.deliveries
                if deliveries >= self.max_deliver:
                    await self._dead_letter(msg, dict(envelope.headers), deliveries, _describe(exc))
                else:
                    delay = self.backoff[min(deliveries, len(self.backoff)) - 1]
                    self.metrics.consumer_redeliveries.labels(self.durable).inc()
                    self._log.warning(
                        "handler failed; will retry",
                        subject=msg.subject,
                        deliveries=deliveries,
                        retry_in=delay,
                        error=_describe(exc),
                    )
                    await msg.nak(delay=delay)
                return
        await msg.ack()
        self._record(msg.subject, "ok", started)

    def _record(self, subject: str, outcome: str, started: float) -> None:
        name = subject.rsplit(".", 1)[-1]
        self.metrics.consumer_messages.labels(self.durable, name, outcome).inc()
        self.metrics.consumer_seconds.labels(self.durable, name).observe(
            time.perf_counter() - started
        )

    async def _dead_letter(
        self, msg: Msg, headers: dict[str, str], deliveries: int, reason: str
    ) -> None:
        # Unique per delivered copy: a redriven message that fails again is a new dead letter,
        # not a duplicate of the first (which the DLQ stream would silently drop).
        source = msg.metadata.sequence.stream if msg.metadata else msg.reply
        dlq_headers = {
            **headers,
            HEADER_DLQ_REASON: reason[:512],
            HEADER_DLQ_SUBJECT: msg.subject,
            HEADER_DLQ_CONSUMER: self.durable,
            HEADER_DLQ_DELIVERIES: str(deliveries),
            "Nats-Msg-Id": f"dlq:{self.durable}:{self.stream}:{source}",
        }
        await self.js.publish(
            self.topology.dlq_subject(self.durable), msg.data, headers=dlq_headers
        )
        await msg.term()
        self.metrics.dead_lettered.labels(self.durable).inc()
        self._log.error(
            "message dead-lettered", subject=msg.subject, reason=reason, deliveries=deliveries
        )


async def _claim_chunk(batch: Any, decoded: list[tuple[Route[Any], Message, Envelope]]) -> None:
    """Claim the chunk's message ids in the inbox with one statement per inbox consumer, when
    the group commit offers an inbox and the handlers are `idempotent()` ones."""
    inbox = getattr(batch, "inbox", None)
    if inbox is None:
        return
    by_consumer: dict[str, list[str]] = {}
    for route, _, envelope in decoded:
        consumer = getattr(route.handler, "inbox_consumer", None)
        if consumer is not None:
            by_consumer.setdefault(consumer, []).append(envelope.message_id)
    for consumer, message_ids in by_consumer.items():
        if len(message_ids) > 1:
            await inbox.claim_many(consumer, message_ids)


class _Poison(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.cache
def _subject(prefix: str, full_name: str) -> str:
    # Cached: every outgoing message on the saga's hot path asks, and the regex is not free.
    _, context, _, name = full_name.split(".")
    kind = "cmd" if name.endswith("Command") else "evt"
    return f"{prefix}.{context}.{kind}.{_snake(name.removesuffix('Command'))}"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
