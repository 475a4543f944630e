"""Inbox: a consumer's record of messages already applied, in the same transaction as the effect.

A message is applied at most once per consumer: `claim()` inserts (consumer, message id) and
returns False when the row already exists, so a redelivered message has no second effect. The
consumer acks only after the transaction commits; a crash before commit leaves no inbox row, and
redelivery applies the message then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from surge_platform.db import SqlUnitOfWork
    from surge_platform.messaging import Envelope

__all__ = ["Inbox", "idempotent"]

_CLAIM = text(
    "INSERT INTO inbox (consumer, message_id) VALUES (:consumer, :message_id) "
    "ON CONFLICT DO NOTHING RETURNING 1"
)


class Inbox:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(self, consumer: str, message_id: str) -> bool:
        """True the first time this consumer sees `message_id` (in this transaction's view)."""
        result = await self._connection.execute(
            _CLAIM, {"consumer": consumer, "message_id": message_id}
        )
        return result.first() is not None


UowT = TypeVar("UowT", bound="SqlUnitOfWork")
MessageT = TypeVar("MessageT")


def idempotent(
    consumer: str,
    uow_factory: Callable[[], UowT],
    handler: Callable[[MessageT, UowT], Awaitable[None]],
) -> Callable[[MessageT, Envelope], Awaitable[None]]:
    """Wrap a handler so it runs at most once per message id for `consumer`.

    The wrapper opens the unit of work and claims the message in the inbox; the handler does its
    work in the same unit of work and commits. A handler that does not commit leaves no inbox row,
    so the message is applied when it is delivered again.
    """

    async def handle(message: MessageT, envelope: Envelope) -> None:
        uow = uow_factory()
        async with uow:
            if not await uow.inbox.claim(consumer, envelope.message_id):
                return
            await handler(message, uow)

    return handle
