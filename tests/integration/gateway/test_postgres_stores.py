"""The gateway's PostgreSQL stores against a real database, migrated by its Alembic scripts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_gateway.adapters.postgres import (
    PgApiKeyStore,
    PgIdempotencyStore,
    PgIntakeLog,
    StoreUnavailable,
    open_pool,
)
from surge_gateway.auth import ApiKey, hash_api_key
from surge_gateway.entrypoints.cli import main
from surge_gateway.idempotency import ClaimState, IntakeEntry, StoredResponse
from surge_platform.db import create_engine
from surge_platform.migrations import migrate, migrations_of

from tests.support import wait_until

MIGRATIONS = migrations_of("surge_gateway")

pytestmark = pytest.mark.integration

DAY = timedelta(hours=24)
LEASE = timedelta(seconds=30)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(migrate, MIGRATIONS, database_url)
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pool(engine: AsyncEngine, database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database_url, 5)
    yield pool
    await pool.close()


async def test_a_key_is_claimed_once_then_replayed_or_refused(pool: asyncpg.Pool) -> None:
    store = PgIdempotencyStore(pool)
    assert (await store.claim("p", "k", "f1", DAY, LEASE)).state is ClaimState.NEW
    assert (await store.claim("p", "k", "f1", DAY, LEASE)).state is ClaimState.IN_FLIGHT
    assert (await store.claim("p", "k", "f2", DAY, LEASE)).state is ClaimState.MISMATCH
    response = StoredResponse(202, b'{"id": "o-1"}', {"Location": "/v1/orders/o-1"})
    await store.complete("p", "k", response)
    done = await store.claim("p", "k", "f1", DAY, LEASE)
    assert done.state is ClaimState.DONE
    assert done.response == response
    assert (await store.claim("p", "k", "f2", DAY, LEASE)).state is ClaimState.MISMATCH
    assert (await store.claim("other", "k", "f2", DAY, LEASE)).state is ClaimState.NEW


async def test_concurrent_claims_of_one_key_have_exactly_one_winner(pool: asyncpg.Pool) -> None:
    store = PgIdempotencyStore(pool)
    claims = await asyncio.gather(*(store.claim("p", "k", "f", DAY, LEASE) for _ in range(30)))
    assert sum(c.state is ClaimState.NEW for c in claims) == 1


async def test_a_released_key_can_be_claimed_again_but_a_completed_one_cannot(
    pool: asyncpg.Pool,
) -> None:
    store = PgIdempotencyStore(pool)
    await store.claim("p", "k", "f", DAY, LEASE)
    await store.release("p", "k")
    assert (await store.claim("p", "k", "f", DAY, LEASE)).state is ClaimState.NEW
    await store.complete("p", "k", StoredResponse(200, b"{}"))
    await store.release("p", "k")  # only in-flight keys are released
    assert (await store.claim("p", "k", "f", DAY, LEASE)).state is ClaimState.DONE


async def test_expired_keys_and_abandoned_leases_are_taken_over(pool: asyncpg.Pool) -> None:
    store = PgIdempotencyStore(pool)
    await store.claim("p", "expired", "f", timedelta(seconds=-1), LEASE)
    await store.complete("p", "expired", StoredResponse(200, b"{}"))
    assert (await store.claim("p", "expired", "g", DAY, LEASE)).state is ClaimState.NEW
    await store.claim("p", "abandoned", "f", DAY, timedelta(seconds=-1))
    assert (await store.claim("p", "abandoned", "f", DAY, LEASE)).state is ClaimState.NEW
    assert await store.purge_expired() == 0


async def test_api_keys_are_found_by_hash_and_rotation_revokes_the_old_key(
    engine: AsyncEngine,
) -> None:
    keys = PgApiKeyStore(engine)
    await keys.put("channel", "tmall", hash_api_key("old"))
    assert await keys.find(hash_api_key("old")) == ApiKey("tmall", "channel")
    await keys.put("channel", "tmall", hash_api_key("new"))
    assert await keys.find(hash_api_key("old")) is None
    assert await keys.find(hash_api_key("new")) == ApiKey("tmall", "channel")


async def test_same_phone_and_skus_in_the_window_is_flagged_across_channels(
    pool: asyncpg.Pool,
) -> None:
    log = PgIntakeLog(pool)
    window = timedelta(minutes=5)
    assert not await log.record("tmall", "T1", "phone-a", "A,B", window)
    assert not await log.record("tmall", "T1", "phone-a", "A,B", window)  # a retry of itself
    assert await log.record("jd", "J1", "phone-a", "A,B", window)
    assert not await log.record("jd", "J2", "phone-a", "A", window)
    assert not await log.record("jd", "J3", "phone-b", "A,B", window)
    await log.forget("tmall", "T1")
    await log.forget("jd", "J1")
    assert not await log.record("douyin", "D1", "phone-a", "A,B", window)


async def test_an_intake_waits_for_one_in_progress_for_the_same_phone_and_sees_it(
    engine: AsyncEngine, pool: asyncpg.Pool
) -> None:
    # Intake is one round trip (migration 0007_perf) but must keep its guarantee: a second
    # intake of the phone waits for the first to commit and then sees it. Without the lock it
    # would not wait; with a snapshot older than the lock it would wait but miss the row.
    log = PgIntakeLog(pool)
    async with engine.connect() as first, engine.connect() as probe:
        await first.begin()
        await first.execute(text("SELECT pg_advisory_xact_lock(hashtext('phone-d'))"))
        await first.execute(
            text(
                "INSERT INTO intake_log (channel, identity, phone_hash, skus) "
                "VALUES ('tmall', 'T9', 'phone-d', 'A,B')"
            )
        )
        second = asyncio.create_task(log.record("jd", "J9", "phone-d", "A,B", timedelta(minutes=5)))

        async def waiting() -> bool:
            found = await probe.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
            await probe.rollback()
            return bool(found.scalar_one())

        await wait_until(waiting, 10, "the second intake waiting for the phone's lock")
        assert not second.done()
        await first.commit()
    assert await second


def _entry(channel: str, identity: str, phone: str, skus: str = "A,B") -> IntakeEntry:
    return IntakeEntry(channel, identity, phone, skus, timedelta(minutes=5))


async def _intake_rows(pool: asyncpg.Pool, phone: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT channel || ':' || identity AS id FROM intake_log WHERE phone_hash = $1 "
        "ORDER BY received_at",
        phone,
    )
    return [row["id"] for row in rows]


async def test_a_new_orders_claim_records_its_intake_entry_only_when_the_key_is_new(
    pool: asyncpg.Pool,
) -> None:
    # Claim + intake in one round trip: a claimed key records the entry and says whether it
    # is a possible duplicate; a key in flight, replayed or mismatched records nothing.
    store = PgIdempotencyStore(pool)
    first = await store.claim("p", "o1", "f", DAY, LEASE, _entry("tmall", "T1", "phone-m"))
    assert (first.state, first.duplicate) == (ClaimState.NEW, False)
    again = await store.claim("p", "o1", "f", DAY, LEASE, _entry("tmall", "T1-retry", "phone-m"))
    assert again.state is ClaimState.IN_FLIGHT
    other = await store.claim("p", "o1", "g", DAY, LEASE, _entry("jd", "J-other", "phone-m"))
    assert other.state is ClaimState.MISMATCH
    await store.complete("p", "o1", StoredResponse(202, b"{}"))
    replay = await store.claim("p", "o1", "f", DAY, LEASE, _entry("tmall", "T1-again", "phone-m"))
    assert replay.state is ClaimState.DONE
    assert await _intake_rows(pool, "phone-m") == ["tmall:T1"]

    second = await store.claim("q", "o2", "f", DAY, LEASE, _entry("jd", "J1", "phone-m"))
    assert (second.state, second.duplicate) == (ClaimState.NEW, True)
    other_skus = await store.claim("q", "o3", "f", DAY, LEASE, _entry("jd", "J2", "phone-m", "A"))
    assert (other_skus.state, other_skus.duplicate) == (ClaimState.NEW, False)
    plain = await store.claim("q", "o4", "f", DAY, LEASE)
    assert (plain.state, plain.duplicate) == (ClaimState.NEW, None)
    assert await _intake_rows(pool, "phone-m") == ["tmall:T1", "jd:J1", "jd:J2"]


async def test_a_claim_with_intake_waits_for_an_intake_in_progress_for_the_phone(
    engine: AsyncEngine, pool: asyncpg.Pool
) -> None:
    # The same guarantee as the intake on its own (test above): the claim's intake waits for
    # the phone's lock and then reads a snapshot that sees the first order's row.
    store = PgIdempotencyStore(pool)
    async with engine.connect() as first, engine.connect() as probe:
        await first.begin()
        await first.execute(text("SELECT pg_advisory_xact_lock(hashtext('phone-w'))"))
        await first.execute(
            text(
                "INSERT INTO intake_log (channel, identity, phone_hash, skus) "
                "VALUES ('tmall', 'T8', 'phone-w', 'A,B')"
            )
        )
        second = asyncio.create_task(
            store.claim("p", "w1", "f", DAY, LEASE, _entry("jd", "J8", "phone-w"))
        )

        async def waiting() -> bool:
            found = await probe.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
            await probe.rollback()
            return bool(found.scalar_one())

        await wait_until(waiting, 10, "the claim's intake waiting for the phone's lock")
        assert not second.done()
        await first.commit()
    claim = await second
    assert (claim.state, claim.duplicate) == (ClaimState.NEW, True)


def test_channel_key_command_prints_a_key_that_is_stored_hashed(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SURGE_GATEWAY_DATABASE_URL", database_url)
    main(["migrate"])
    main(["channel-key", "douyin"])
    key = capsys.readouterr().out.strip().splitlines()[-1]

    async def lookup() -> ApiKey | None:
        engine = create_engine(database_url, pool_size=1)
        try:
            return await PgApiKeyStore(engine).find(hash_api_key(key))
        finally:
            await engine.dispose()

    assert asyncio.run(lookup()) == ApiKey("douyin", "channel")


async def test_old_intake_rows_are_purged(pool: asyncpg.Pool) -> None:
    log = PgIntakeLog(pool)
    await log.record("tmall", "T1", "phone-a", "A", timedelta(minutes=5))
    assert await log.purge_older_than(timedelta(days=1)) == 0
    assert await log.purge_older_than(timedelta(0)) == 1


async def test_an_unreachable_database_is_store_unavailable_which_the_app_answers_503() -> None:
    pool = await open_pool("postgresql+asyncpg://nobody:x@127.0.0.1:1/none", 1)
    try:
        with pytest.raises(StoreUnavailable) as failed:
            await PgIdempotencyStore(pool).claim("p", "k", "f", DAY, LEASE)
        with pytest.raises(StoreUnavailable):
            await PgIntakeLog(pool).record("web", "W1", "phone", "A", timedelta(minutes=5))
    finally:
        await pool.close()
    assert isinstance(failed.value, ConnectionError)  # problems.install: ConnectionError -> 503
