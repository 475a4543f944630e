"""Transactional outbox: messages written in the same transaction as the state they announce.

`Outbox.add()` buffers protobuf messages; the unit of work flushes them with one INSERT just
before COMMIT, so a message exists if and only if its state change does. `OutboxRelay` publishes
rows to JetStream with `Nats-Msg-Id` = row id, so a relay that dies after publishing but before
deleting is deduplicated by the stream, and two relays never take the same row
(`FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
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

__all__ = ["NOTIFY_CHANNEL", "Outbox", "OutboxRelay"]

NOTIFY_CHANNEL = "surge_outbox"

_INSERT = text(
    "INSERT INTO outbox (id, subject, msg_type, payload, headers) "
    "VALUES (:id, :subject, :msg_type, :payload, CAST(:headers AS jsonb))"
)
# Claim and delete in one statement: the rows stay locked (and come back on rollback) until
# the relay commits after publishing, so a failed publish loses nothing.
_TAKE = text(
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
    "ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED) "
    "RETURNING id, subject, msg_type, payload, headers"
)
_BACKLOG = text("SELECT count(*), min(created_at) FROM outbox")


@dataclass(frozen=True)
class _Pending:
    id: str
    subject: str
    msg_type: str
    payload: bytes
    headers: dict[str, str]


class Outbox:
    """Collects outgoing messages for the current transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._pending: list[_Pending] = []

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
        row = _Pending(
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
        self._pending.clear()


class OutboxRelay:
    """Publishes committed outbox rows to JetStream in batches.

    Woken by LISTEN/NOTIFY (a statement trigger on `outbox`), with a poll fallback in case a
    notification is lost (a dropped LISTEN connection, a restart).
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
    ) -> None:
        self._engine = engine
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
            taken = await _raw.raw_fetch(conn, _TAKE, {"limit": self._batch_size})
            if not taken:
                return 0
            # RETURNING has no order: publish in id (UUIDv7, i.e. creation) order.
            rows = sorted(taken, key=lambda row: row.id)
            await asyncio.gather(*(self._publish(row) for row in rows))
        self._metrics.outbox_published.inc(len(rows))
        return len(rows)

    async def _publish(self, row: Any) -> None:
        headers: dict[str, str] = dict(row.headers or {})
        message_id = str(row.id)
        headers.setdefault(HEADER_MESSAGE_ID, message_id)
        headers[HEADER_TYPE] = row.msg_type
        headers["Nats-Msg-Id"] = message_id
        await self._js.publish(
            row.subject, bytes(row.payload), headers=headers, timeout=self._publish_timeout
        )

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
        listener = await self._listen()
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
