"""Async SQLAlchemy (Core) engine and the unit-of-work base.

Hot paths (saga steps, reservations, outbox, inbox) use SQLAlchemy Core on one `AsyncConnection`
per unit of work: DESIGN.md §9 measured the ORM at about three times the CPU per transaction.

A unit of work is one transaction. It rolls back unless `commit()` runs, and only handlers call
`commit()`. Services subclass it to attach their repositories:

    class InventoryUnitOfWork(SqlUnitOfWork):
        async def _open(self) -> None:
            self.stock = StockRepository(self.connection)

    async with uow:
        ...
        uow.outbox.add(subject, event)
        await uow.commit()
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from surge_platform.inbox import Inbox
from surge_platform.outbox import Outbox

__all__ = ["SqlUnitOfWork", "asyncpg_dsn", "create_engine"]


def create_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    """An asyncpg-backed engine; `url` must use the `postgresql+asyncpg://` scheme."""
    if not url.startswith("postgresql+asyncpg://"):
        raise ValueError("database URL must start with postgresql+asyncpg://")
    return create_async_engine(
        url,
        pool_size=pool_size,
        # No overflow: overflow connections are opened and closed per checkout under load,
        # which costs more than waiting a moment for a pooled one.
        max_overflow=0,
        # No pre-ping: it costs a round trip per unit of work. A dead connection fails that one
        # message or call, which is redelivered or retried; recycling bounds connection age.
        pool_pre_ping=False,
        pool_recycle=1800,
        echo=echo,
    )


def asyncpg_dsn(url: str) -> str:
    """The same URL in the form asyncpg.connect() accepts (for LISTEN connections)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class SqlUnitOfWork:
    """One transaction on one connection, with the outbox and inbox bound to it."""

    connection: AsyncConnection
    outbox: Outbox
    inbox: Inbox

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._committed = False

    async def __aenter__(self) -> Self:
        self.connection = await self._engine.connect()
        await self.connection.begin()
        self.outbox = Outbox(self.connection)
        self.inbox = Inbox(self.connection)
        self._committed = False
        await self._open()
        return self

    async def _open(self) -> None:
        """Hook for subclasses to bind repositories to `self.connection`."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.connection.rollback()
        finally:
            await self.connection.close()

    async def commit(self) -> None:
        await self.outbox.flush()
        await self.connection.commit()
        self._committed = True
