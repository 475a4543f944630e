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

import contextlib
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from surge_platform.inbox import Inbox
from surge_platform.logging import get_logger
from surge_platform.outbox import Outbox
from surge_platform.raw import RawRow, raw_execute, raw_execute_many, raw_fetch, raw_fetchrow

__all__ = [
    "BatchTransaction",
    "Deferred",
    "RawRow",
    "SqlUnitOfWork",
    "UncommittedInBatchError",
    "asyncpg_dsn",
    "batch_transaction",
    "create_engine",
    "current_batch",
    "on_chunk",
    "prefetched",
    "publish_after_commit",
    "raw_execute",
    "raw_execute_many",
    "raw_fetch",
    "raw_fetchrow",
]

_log = get_logger("surge.db")


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


class Deferred(Protocol):
    """Writes a unit of work collects and sends with one statement when it commits; in a group
    commit, one per batch for all its units of work (see `SqlUnitOfWork.deferred`)."""

    async def flush(self) -> None: ...


DeferredT = TypeVar("DeferredT", bound=Deferred)


class UncommittedInBatchError(Exception):
    """A unit of work inside a batch ended without commit(); the batch must be replayed
    message by message, because its effects cannot be undone alone."""


class BatchTransaction:
    """One transaction shared by the units of work of a fetched batch of messages (group commit).

    Each unit of work's `commit()` only marks its message done; the batch flushes every outbox
    row with one INSERT and commits once. If any message fails, the whole batch rolls back and
    the consumer replays the messages one by one, each in its own transaction, so the outcome is
    exactly what per-message transactions would have produced, with fewer round trips.
    """

    def __init__(self, connection: AsyncConnection, chunk_hooks: Sequence[ChunkHook] = ()) -> None:
        self.connection = connection
        self.chunk_hooks = chunk_hooks
        # What the chunk hooks read ahead for the batch's handlers (e.g. rows locked at once).
        self.prefetched: dict[str, Any] = {}
        self.outbox = Outbox(connection)
        self.inbox = Inbox(connection)
        self.after_commit: list[Callable[[], None]] = []
        self.deferred: dict[object, Deferred] = {}

    async def before_handlers(self, messages: Sequence[Any]) -> None:
        """Run the chunk hooks on the decoded messages, before any handler runs."""
        for hook in self.chunk_hooks:
            await hook(self, messages)

    async def flush(self) -> None:
        """Send the batch's deferred writes, then its outbox rows (still in its transaction)."""
        for writes in self.deferred.values():
            await writes.flush()
        await self.outbox.flush()

    def run_after_commit(self) -> None:
        callbacks, self.after_commit = self.after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                _log.exception("after-commit callback failed")


_current_batch: contextvars.ContextVar[BatchTransaction | None] = contextvars.ContextVar(
    "surge_batch_transaction", default=None
)

ChunkHook = Callable[[BatchTransaction, Sequence[Any]], Awaitable[None]]
_chunk_hooks: dict[AsyncEngine, list[ChunkHook]] = {}


def on_chunk(engine: AsyncEngine, hook: ChunkHook) -> None:
    """Run `hook(batch, messages)` at the start of every group commit on `engine`, before its
    handlers: a service reads ahead what they will need with one statement per chunk (the
    order service locks the chunk's orders). Results go in `batch.prefetched`."""
    _chunk_hooks.setdefault(engine, []).append(hook)


_publishers: dict[AsyncEngine, Callable[[Sequence[Any]], None]] = {}


def publish_after_commit(engine: AsyncEngine, submit: Callable[[Sequence[Any]], None]) -> None:
    """Hand the outbox rows of every transaction committed on `engine` to `submit` (the
    service's `DirectPublisher.submit`), right after its COMMIT."""
    _publishers[engine] = submit


def _submit_committed(engine: AsyncEngine, outbox: Outbox) -> None:
    rows = outbox.take_flushed()
    submit = _publishers.get(engine)
    if rows and submit is not None:
        submit(rows)


def current_batch() -> BatchTransaction | None:
    """The group commit this task runs in, if any."""
    return _current_batch.get()


def prefetched(connection: AsyncConnection, key: str) -> Any:
    """What the chunk hooks of the group commit running on `connection` read ahead under `key`;
    None outside a group commit (a single message, an RPC) or on another connection."""
    batch = _current_batch.get()
    if batch is None or batch.connection is not connection:
        return None
    return batch.prefetched.get(key)


@contextlib.asynccontextmanager
async def batch_transaction(engine: AsyncEngine) -> AsyncIterator[BatchTransaction]:
    """Units of work opened inside this block share one transaction, committed at its end."""
    async with engine.connect() as connection:
        await connection.begin()
        batch = BatchTransaction(connection, _chunk_hooks.get(engine, ()))
        token = _current_batch.set(batch)
        try:
            yield batch
        finally:
            _current_batch.reset(token)
        await batch.flush()
        await connection.commit()
    _submit_committed(engine, batch.outbox)
    batch.run_after_commit()


class SqlUnitOfWork:
    """One transaction on one connection, with the outbox and inbox bound to it.

    Inside `batch_transaction()` (the consumer's group commit) it joins the batch's transaction
    instead of opening its own; handlers cannot tell the difference.
    """

    connection: AsyncConnection
    outbox: Outbox
    inbox: Inbox

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._committed = False
        self._batch: BatchTransaction | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._deferred: dict[object, Deferred] = {}

    async def __aenter__(self) -> Self:
        self._batch = _current_batch.get()
        if self._batch is not None:
            self.connection = self._batch.connection
            self.outbox = self._batch.outbox
            self.inbox = self._batch.inbox
        else:
            self.connection = await self._engine.connect()
            await self.connection.begin()
            self.outbox = Outbox(self.connection)
            self.inbox = Inbox(self.connection)
        self._committed = False
        self._after_commit = []
        self._deferred = self._batch.deferred if self._batch is not None else {}
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
        if self._batch is not None:
            if exc_type is None and not self._committed:
                raise UncommittedInBatchError
            return
        try:
            if not self._committed:
                await self.connection.rollback()
        finally:
            await self.connection.close()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (e.g. count a metric); never if it
        rolls back, so metrics count only what really happened."""
        self._after_commit.append(callback)

    def deferred(self, factory: Callable[[AsyncConnection], DeferredT]) -> DeferredT:
        """The collector of deferred writes made by `factory` (one per factory), flushed in this
        transaction before it commits. Inside a group commit it is the batch's, shared by every
        unit of work of the batch: a projection written per message then costs one statement
        per batch. A unit of work that does not commit fails the batch (and so its writes)."""
        found = self._deferred.get(factory)
        if found is None:
            found = self._deferred[factory] = factory(self.connection)
        return cast(DeferredT, found)

    async def commit(self) -> None:
        if self._batch is not None:
            self._committed = True
            self._batch.after_commit.extend(self._after_commit)
            return
        for writes in self._deferred.values():
            await writes.flush()
        await self.outbox.flush()
        await self.connection.commit()
        self._committed = True
        _submit_committed(self._engine, self.outbox)
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                _log.exception("after-commit callback failed")
