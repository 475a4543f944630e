"""Inbox: a consumer's record of messages already applied, in the same transaction as the effect.

A message is applied at most once per consumer: `claim()` inserts (consumer, message id) and
returns False when the row already exists, so a redelivered message has no second effect. The
consumer acks only after the transaction commits; a crash before commit leaves no inbox row, and
redelivery applies the message then.

In a group commit the consumer claims a whole chunk's ids with one statement first
(`claim_many`); each handler's `claim()` then answers from that result without a round trip.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from surge_platform import raw as _raw

if TYPE_CHECKING:
    from surge_platform.db import SqlUnitOfWork
    from surge_platform.messaging import Envelope

__all__ = ["IdempotentHandler", "Inbox", "claim_cte", "idempotent"]

_CLAIM_SQL = (
    "INSERT INTO inbox (consumer, message_id) VALUES (:consumer, :message_id) "
    "ON CONFLICT DO NOTHING RETURNING 1"
)
_CLAIM = text(_CLAIM_SQL)
# Duplicate ids within one statement are fine with DO NOTHING: the first row wins.
_CLAIM_MANY = text(
    "INSERT INTO inbox (consumer, message_id) "
    "SELECT :consumer, id FROM unnest(CAST(:ids AS text[])) AS id "
    "ON CONFLICT DO NOTHING RETURNING message_id"
)


def claim_cte(name: str) -> str:
    """One message's claim as the CTE `name` (parameters `:consumer`, `:message_id`): one row
    when the message is new, none when it was applied before. For a handler that claims and
    applies in one statement, its effect guarded by `EXISTS (SELECT 1 FROM <name>)`: claim and
    effect still commit together, in one round trip instead of a unit of work's four."""
    return f"{name} AS ({_CLAIM_SQL})"


class Inbox:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        # (consumer, id) pairs asked by claim_many, and those it granted (not yet handed out).
        self._asked: set[tuple[str, str]] = set()
        self._granted: set[tuple[str, str]] = set()

    async def claim(self, consumer: str, message_id: str) -> bool:
        """True the first time this consumer sees `message_id` (in this transaction's view)."""
        key = (consumer, message_id)
        if key in self._asked:
            if key in self._granted:
                self._granted.discard(key)
                return True
            return False
        row = await _raw.raw_fetchrow(
            self._connection, _CLAIM, {"consumer": consumer, "message_id": message_id}
        )
        return row is not None

    async def claim_many(self, consumer: str, message_ids: list[str]) -> None:
        """Claim several ids with one statement; later `claim()` calls answer from the result
        (an id seen twice is granted once)."""
        rows = await _raw.raw_fetch(
            self._connection, _CLAIM_MANY, {"consumer": consumer, "ids": message_ids}
        )
        self._asked.update((consumer, message_id) for message_id in message_ids)
        self._granted.update((consumer, row[0]) for row in rows)


UowT = TypeVar("UowT", bound="SqlUnitOfWork")
MessageT = TypeVar("MessageT")


class IdempotentHandler(Generic[MessageT, UowT]):
    """A consumer handler that runs at most once per message id for `consumer` (see
    `idempotent()`); the consumer reads `inbox_consumer` to claim a group commit's ids at once."""

    def __init__(
        self,
        consumer: str,
        uow_factory: Callable[[], UowT],
        handler: Callable[[MessageT, UowT], Awaitable[None]],
    ) -> None:
        self.inbox_consumer = consumer
        self._uow_factory = uow_factory
        self._handler = handler

    async def __call__(self, message: MessageT, envelope: Envelope) -> None:
        uow = self._uow_factory()
        async with uow:
            if not await uow.inbox.claim(self.inbox_consumer, envelope.message_id):
                # Applied before: nothing to do, but the unit of work ends normally, so a
                # redelivered copy inside a group commit does not make the whole batch replay
                # one message at a time.
                await uow.commit()
                return
            await self._handler(message, uow)


def idempotent(
    consumer: str,
    uow_factory: Callable[[], UowT],
    handler: Callable[[MessageT, UowT], Awaitable[None]],
) -> IdempotentHandler[MessageT, UowT]:
    """Wrap a handler so it runs at most once per message id for `consumer`.

    The wrapper opens the unit of work and claims the message in the inbox; the handler does its
    work in the same unit of work and commits. A handler that does not commit leaves no inbox row,
    so the message is applied when it is delivered again.
    """
    return IdempotentHandler(consumer, uow_factory, handler)
