"""Group-commit hooks of the unit of work: deferred writes flushed once per batch (or per unit of
work outside one), and chunk hooks that read ahead for the batch's handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from surge_platform.db import (
    BatchTransaction,
    SqlUnitOfWork,
    UncommittedInBatchError,
    batch_transaction,
    current_batch,
    on_chunk,
    raw_execute,
)

pytestmark = pytest.mark.integration

_INSERT_MANY = text(
    "INSERT INTO effects (key, hits) SELECT k, 1 FROM unnest(CAST(:keys AS text[])) AS k"
)
flushes: list[list[str]] = []


class Effects:
    """A deferred writer: collects keys, inserts them with one statement."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self.keys: list[str] = []

    async def flush(self) -> None:
        keys, self.keys = self.keys, []
        flushes.append(keys)
        await raw_execute(self._connection, _INSERT_MANY, {"keys": keys})


async def stored(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT key FROM effects ORDER BY key"))).all()
    return [row.key for row in rows]


async def test_deferred_writes_go_out_once_per_batch_and_only_when_committed(
    engine: AsyncEngine,
) -> None:
    flushes.clear()
    async with batch_transaction(engine):
        for key in ("a", "b", "c"):
            async with SqlUnitOfWork(engine) as uow:
                uow.deferred(Effects).keys.append(key)
                await uow.commit()
    assert flushes == [["a", "b", "c"]]
    assert await stored(engine) == ["a", "b", "c"]

    async def uncommitted_in_a_batch() -> None:
        async with batch_transaction(engine), SqlUnitOfWork(engine) as uow:
            uow.deferred(Effects).keys.append("lost")

    with pytest.raises(UncommittedInBatchError):
        await uncommitted_in_a_batch()
    async with SqlUnitOfWork(engine) as uow:
        uow.deferred(Effects).keys.append("rolled-back")  # no commit
    async with SqlUnitOfWork(engine) as uow:
        uow.deferred(Effects).keys.append("alone")
        await uow.commit()
    assert flushes == [["a", "b", "c"], ["alone"]]
    assert await stored(engine) == ["a", "alone", "b", "c"]


async def test_chunk_hooks_run_before_handlers_and_share_what_they_read(
    engine: AsyncEngine,
) -> None:
    seen: list[Sequence[Any]] = []

    async def hook(batch: BatchTransaction, messages: Sequence[Any]) -> None:
        seen.append(messages)
        batch.prefetched["count"] = len(messages)

    on_chunk(engine, hook)
    assert current_batch() is None
    async with batch_transaction(engine) as batch:
        await batch.before_handlers(["m1", "m2"])
        async with SqlUnitOfWork(engine) as uow:
            found = current_batch()
            assert found is batch
            assert found.connection is uow.connection
            assert found.prefetched == {"count": 2}
            await uow.commit()
    assert seen == [["m1", "m2"]]
