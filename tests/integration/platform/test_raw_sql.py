"""Raw asyncpg statements run inside the unit of work's transaction, and the inbox's chunk claim
grants each message id once."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import SqlUnitOfWork, batch_transaction, raw_execute, raw_fetchrow

pytestmark = pytest.mark.integration

_INSERT = text("INSERT INTO effects (key, hits) VALUES (:key, :hits) RETURNING hits")


async def keys(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return {row.key for row in (await conn.execute(text("SELECT key FROM effects"))).all()}


async def test_a_raw_first_statement_joins_the_transaction_and_rolls_back_with_it(
    engine: AsyncEngine,
) -> None:
    async with SqlUnitOfWork(engine) as uow:
        row = await raw_fetchrow(uow.connection, _INSERT, {"key": "rolled-back", "hits": 7})
        assert row is not None
        assert (row.hits, row[0]) == (7, 7)
        # SQLAlchemy sees the raw write: same connection, same transaction.
        seen = await uow.connection.execute(
            text("SELECT hits FROM effects WHERE key = 'rolled-back'")
        )
        assert seen.scalar_one() == 7
        # no commit: the unit of work rolls back
    async with SqlUnitOfWork(engine) as uow:
        await raw_execute(uow.connection, _INSERT, {"key": "kept", "hits": 1})
        await uow.commit()
    assert await keys(engine) == {"kept"}


async def test_a_raw_constraint_violation_raises_sqlalchemy_integrity_error(
    engine: AsyncEngine,
) -> None:
    async with SqlUnitOfWork(engine) as uow:
        await raw_execute(uow.connection, _INSERT, {"key": "dup", "hits": 1})
        with pytest.raises(IntegrityError):
            await raw_execute(uow.connection, _INSERT, {"key": "dup", "hits": 2})


async def test_a_connection_killed_under_a_raw_statement_leaves_the_pool(
    engine: AsyncEngine,
) -> None:
    """After a database restart every pooled connection is dead: each must fail once with a
    SQLAlchemy error (the gateway answers 503) and be dropped, not handed out again."""
    backend = text("SELECT pg_backend_pid() AS pid")
    async with SqlUnitOfWork(engine) as uow:
        row = await raw_fetchrow(uow.connection, backend)
        assert row is not None
        async with engine.connect() as other:
            # Waits (up to 5 s) until the backend is gone, as after a restart.
            await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": row.pid})
        with pytest.raises(DBAPIError):
            await raw_execute(uow.connection, _INSERT, {"key": "lost", "hits": 1})
    for _ in range(engine.pool.size() + 1):  # every pooled connection, and then some
        async with SqlUnitOfWork(engine) as uow:
            again = await raw_fetchrow(uow.connection, backend)
            assert again is not None
            assert again.pid != row.pid


async def test_the_chunk_claim_grants_each_message_id_once(engine: AsyncEngine) -> None:
    async with SqlUnitOfWork(engine) as uow:
        assert await uow.inbox.claim("c", "seen-before")
        await uow.commit()
    async with batch_transaction(engine) as batch:
        await batch.inbox.claim_many("c", ["m1", "m2", "m1", "seen-before"])
        granted = [
            await batch.inbox.claim("c", message_id)
            for message_id in ("m1", "m1", "m2", "seen-before")
        ]
        # Another consumer's ids are claimed separately, one statement each.
        assert await batch.inbox.claim("other", "m1")
    assert granted == [True, False, True, False]
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT consumer, message_id FROM inbox"))).all()
    assert sorted(map(tuple, rows)) == [
        ("c", "m1"),
        ("c", "m2"),
        ("c", "seen-before"),
        ("other", "m1"),
    ]
