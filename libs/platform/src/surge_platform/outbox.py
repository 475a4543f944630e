"""Transactional outbox: messages written in the same transaction as the state they announce.

`Outbox.add()` buffers protobuf messages; the unit of work flushes them with one INSERT just
before COMMIT, so a message exists if and only if its state change does. `OutboxRelay` publishes
rows to JetStream with `Nats-Msg-Id` = row id, so a relay that dies after publishing but before
deleting is deduplicated by the stream, and two relays never take the same row
(`FOR UPDATE SKIP LOCKED`).

`DirectPublisher` takes the relay off the critical path: right after a unit of work commits, its
rows are published from memory and then deleted. Waiting for the relay instead costs every hop of
a saga a NOTIFY, a wake-up, a claiming statement and a second durable COMMIT before the message
even exists. The relay stays as the safety net: it publishes only rows older than a grace period,
i.e. those whose process died (or whose publish failed) between COMMIT and publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from google.protobuf.message import Message
from nats.js import JetStreamContext
from opentelemetry import propagate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from surge_platform import raw as _raw
from surge_platform.ids import new_id
from surge_platform.logging import get_logger
from surge_platform.messaging import HEADER_MESSAGE_ID, HEADER_TYPE
from surge_platform.telemetry import PlatformMetrics

__all__ = [
    "NOTIFY_CHANNEL",
    "DirectPublisher",
    "Outbox",
    "OutboxMessage",
    "OutboxRelay",
    "unnest_columns",
]

NOTIFY_CHANNEL = "surge_outbox"

_INSERT = text(
    "INSERT INTO outbox (id, subject, msg_type, payload, headers) "
    "VALUES (:id, :subject, :msg_type, :payload, CAST(:headers AS jsonb))"
)
# Claim and delete in one statement: the rows stay locked (and come back on rollback) until
# the relay commits after publishing, so a failed publish loses nothing. clock_timestamp(), not
# now(): a row committed after this transaction began is still taken when there is no grace.
_TAKE = text(
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
    "WHERE created_at <= clock_timestamp() - make_interval(secs => :grace) "
    "ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED) "
    "RETURNING id, subject, msg_type, payload, headers"
)
_DELETE_PUBLISHED = text("DELETE FROM outbox WHERE id = ANY(CAST(:ids AS uuid[]))")
_BACKLOG = text("SELECT count(*), min(created_at) FROM outbox")


@dataclass(frozen=True)
class OutboxMessage:
    """One outgoing message, as it is stored in the `outbox` table."""

    id: str
    subject: str
    msg_type: str
    payload: bytes
    headers: dict[str, str]


class Outbox:
    """Collects outgoing messages for the current transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._pending: list[OutboxMessage] = []
        self._flushed: list[OutboxMessage] = []

    def add(
        self,
        subject: str,
        message: Message,
        *,
        message_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Queue `message` for `subject`; returns its message id (the dedup key downstream)."""
        carrier: dict[str, str] = dict(headers or {})
        propagate.inject(carrier)
        row = OutboxMessage(
            id=message_id or new_id(),
            subject=subject,
            msg_type=message.DESCRIPTOR.full_name,
            payload=message.SerializeToString(),
            headers=carrier,
        )
        self._pending.append(row)
        return row.id

    async def flush(self) -> None:
        if not self._pending:
            return
        # Raw asyncpg executemany: one pipelined round trip, without SQLAlchemy's per-row cost.
        await _raw.raw_execute_many(
            self._connection,
            _INSERT,
            [
                {
                    "id": row.id,
                    "subject": row.subject,
                    "msg_type": row.msg_type,
                    "payload": row.payload,
                    "headers": json.dumps(row.headers),
                }
                for row in self._pending
            ],
        )
        self._flushed += self._pending
        self._pending = []

    def take_pending(self) -> list[OutboxMessage]:
        """The queued messages, for a caller that inserts them with its own statement in this
        transaction (e.g. one set-based statement per batch; `unnest_columns` gives the
        parameters). They count as written: they are published after COMMIT like the rest."""
        rows, self._pending = self._pending, []
        self._flushed += rows
        return rows

    def take_flushed(self) -> list[OutboxMessage]:
        """The rows written so far (call once the transaction has committed)."""
        rows, self._flushed = self._flushed, []
        return rows


def unnest_columns(messages: Sequence[OutboxMessage]) -> dict[str, list[Any]]:
    """The messages as one array per `outbox` column (id, subject, msg_type, payload, and
    headers as JSON text), for an `INSERT INTO outbox … SELECT … FROM unnest(…)`."""
    return {
        "id": [m.id for m in messages],
        "subject": [m.subject for m in messages],
        "msg_type": [m.msg_type for m in messages],
        "payload": [m.payload for m in messages],
        "headers": [json.dumps(m.headers) for m in messages],
    }


def _headers(row: Any) -> dict[str, str]:
    headers: dict[str, str] = dict(row.headers or {})
    message_id = str(row.id)
    headers.setdefault(HEADER_MESSAGE_ID, message_id)
    headers[HEADER_TYPE] = row.msg_type
    headers["Nats-Msg-Id"] = message_id
    return headers


async def _publish_all(js: JetStreamContext, rows: Sequence[Any], timeout: float) -> None:
    """Send every row at once and await the acks together under one deadline: one timer per
    batch instead of a request (future, timer, reply parsing) per row awaited in turn."""
    acks = [
        await js.publish_async(row.subject, bytes(row.payload), headers=_headers(row))
        for row in rows
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*acks), timeout)
    except BaseException:
        for ack in acks:
            ack.cancel()  # nats-py forgets a cancelled publish
        raise


class DirectPublisher:
    """Publishes the rows of each committed unit of work at once, then deletes them.

    `submit` is called after COMMIT (see `surge_platform.db.publish_after_commit`) and only
    queues; one task publishes in batches. A failed publish leaves its rows in the table for
    the relay, which takes rows older than its grace period.

    Published rows are deleted together, at most `delete_delay` seconds after the first of them
    was published (or once a batch's worth waits): at low rates a delete per unit of work was
    a transaction of its own for every hop of a saga. The deletes commit asynchronously: one
    lost in a crash only means a row the relay publishes again, and the stream drops the copy
    by its `Nats-Msg-Id`.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        *,
        metrics: PlatformMetrics,
        batch_size: int = 256,
        publish_timeout: float = 5.0,
        max_queued: int = 10_000,
        delete_delay: float = 0.5,
    ) -> None:
        self._engine = engine
        self._js = js
        self._metrics = metrics
        self._batch_size = batch_size
        self._publish_timeout = publish_timeout
        self._max_queued = max_queued
        self._delete_delay = delete_delay
        self._queue: list[OutboxMessage] = []
        self._published: list[str] = []
        self._delete_due = 0.0
        self._wake = asyncio.Event()
        self._log = get_logger("surge.outbox")

    def submit(self, rows: Sequence[OutboxMessage]) -> None:
        # While NATS is down every publish waits out its timeout and commits keep coming: past
        # `max_queued` the rows are left to the relay (they are in the table) instead of memory.
        room = self._max_queued - len(self._queue)
        if rows and room > 0:
            self._queue += rows[:room]
            self._wake.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def undeleted(self) -> int:
        """Rows published and not yet deleted from the table."""
        return len(self._published)

    async def run(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(_set_when(stop, self._wake))
        try:
            while not stop.is_set():
                if self._queue:
                    await self._publish_batch()
                elif self._published and time.monotonic() >= self._delete_due:
                    await self._delete_published()
                else:
                    self._wake.clear()
                    wait = self._delete_due - time.monotonic() if self._published else 1.0
                    # Woken straight by `submit()` (no helper tasks), this task publishes in the
                    # same loop turn as the consumer's ack: NATS gets both in one write.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(max(wait, 0.0)):
                            await self._wake.wait()
        finally:
            stopping.cancel()
            if self._published:
                await self._delete_published()

    async def _publish_batch(self) -> None:
        rows = self._queue[: self._batch_size]
        del self._queue[: len(rows)]
        try:
            await _publish_all(self._js, rows, self._publish_timeout)
        except Exception:
            self._metrics.outbox_errors.inc()
            self._log.warning(
                "direct publish failed; the relay will publish these rows",
                rows=len(rows),
                exc_info=True,
            )
            return
        self._metrics.outbox_published.inc(len(rows))
        if not self._published:
            self._delete_due = time.monotonic() + self._delete_delay
        self._published += [row.id for row in rows]
        if len(self._published) >= self._batch_size:
            await self._delete_published()

    async def _delete_published(self) -> None:
        ids, self._published = self._published, []
        try:
            async with self._engine.connect() as conn, conn.begin():
                await conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
                await _raw.raw_execute(conn, _DELETE_PUBLISHED, {"ids": ids})
        except Exception:
            # The relay publishes them again after its grace period; the stream drops the copies.
            self._metrics.outbox_errors.inc()
            self._log.warning("deleting published rows failed", rows=len(ids), exc_info=True)


class OutboxRelay:
    """Publishes committed outbox rows to JetStream in batches.

    Without a grace period it is the only publisher: woken by LISTEN/NOTIFY (a statement trigger
    on `outbox`), with a poll fallback in case a notification is lost (a dropped LISTEN
    connection, a restart). With `grace` seconds (a `DirectPublisher` runs) it only polls, for
    rows that have waited longer than that.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        *,
        listen_dsn: str,
        metrics: PlatformMetrics,
        batch_size: int = 256,
        poll_interval: float = 1.0,
        publish_timeout: float = 5.0,
        grace: float = 0.0,
    ) -> None:
        self._engine = engine
        self._grace = grace
        self._js = js
        self._listen_dsn = listen_dsn
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._log = get_logger("surge.outbox")

    async def relay_once(self) -> int:
        """Claim, publish and delete one batch; returns how many rows were published."""
        async with self._engine.connect() as conn, conn.begin():
            taken = await _raw.raw_fetch(
                conn, _TAKE, {"limit": self._batch_size, "grace": self._grace}
            )
            if not taken:
                return 0
            # RETURNING has no order: publish in id (UUIDv7, i.e. creation) order.
            rows = sorted(taken, key=lambda row: row.id)
            await _publish_all(self._js, rows, self._publish_timeout)
        self._metrics.outbox_published.inc(len(rows))
        return len(rows)

    async def drain(self) -> int:
        """Publish until the outbox is empty; returns the number of rows published."""
        total = 0
        while published := await self.relay_once():
            total += published
        return total

    async def observe_backlog(self) -> None:
        async with self._engine.connect() as conn:
            count, oldest = (await conn.execute(_BACKLOG)).one()
        self._metrics.outbox_backlog.set(count)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        self._metrics.outbox_oldest_age.set(age)

    async def run(self, stop: asyncio.Event) -> None:
        # With a grace period every notified row is too young to take: polling is enough.
        listener = await self._listen() if not self._grace else None
        last_observed = 0.0
        try:
            while not stop.is_set():
                try:
                    await self.drain()
                except Exception:
                    self._metrics.outbox_errors.inc()
                    self._log.exception("outbox relay batch failed; retrying")
                    await _wait(stop, self._poll_interval)
                if time.monotonic() - last_observed > 5:
                    last_observed = time.monotonic()
                    with contextlib.suppress(Exception):
                        await self.observe_backlog()
                self._wake.clear()
                await _wait_any(stop, self._wake, self._poll_interval)
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close(timeout=2)

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            connection = await asyncpg.connect(self._listen_dsn)
            await connection.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            return connection
        except Exception:
            self._log.warning("outbox LISTEN unavailable; polling only", exc_info=True)
            return None


async def _set_when(stop: asyncio.Event, wake: asyncio.Event) -> None:
    await stop.wait()
    wake.set()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
