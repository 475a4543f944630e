"""The statements a handler sends to PostgreSQL, for the participants' round-trip regression
tests (billing, inventory and fulfillment import it).

`counting_engine` opens a second engine on the same database whose connections log every query
(asyncpg's query logger), BEGIN and COMMIT included. The logger runs its callbacks on the next
turn of the event loop: `Statements.sent()` yields once before it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import create_engine

__all__ = ["Statements", "counting_engine"]

# What the platform sends around every handler (transaction, inbox claim, outbox rows).
_PLATFORM = ("BEGIN", "COMMIT", "ROLLBACK", "INSERT INTO INBOX", "INSERT INTO OUTBOX")


class Statements:
    def __init__(self) -> None:
        self._sent: list[str] = []

    def log(self, record: Any) -> None:
        self._sent.append(" ".join(record.query.split()))

    def clear(self) -> None:
        self._sent.clear()

    async def sent(self) -> list[str]:
        await asyncio.sleep(0)
        return list(self._sent)

    async def of_handler(self) -> list[str]:
        """The statements other than the platform's own around the handler."""
        return [s for s in await self.sent() if not s.upper().startswith(_PLATFORM)]


@contextlib.asynccontextmanager
async def counting_engine(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncEngine, Statements]]:
    counted = create_engine(engine.url.render_as_string(hide_password=False), pool_size=2)
    statements = Statements()

    @event.listens_for(counted.sync_engine, "connect")
    def log_queries(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(statements.log)

    try:
        yield counted, statements
    finally:
        await counted.dispose()
