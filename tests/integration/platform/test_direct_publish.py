"""Committed outbox rows are published right after COMMIT; the relay only sweeps up leftovers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import SqlUnitOfWork, asyncpg_dsn, batch_transaction, publish_after_commit
from surge_platform.messaging import Topology
from surge_platform.outbox import DirectPublisher, OutboxRelay
from surge_platform.telemetry import PlatformMetrics

from tests.integration.platform.test_outbox_relay import outbox_count, stream_ids, write_outbox
from tests.support import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def publisher(
    engine: AsyncEngine, js: JetStreamContext, metrics: PlatformMetrics
) -> AsyncIterator[DirectPublisher]:
    publisher = DirectPublisher(engine, js, metrics=metrics)
    publish_after_commit(engine, publisher.submit)
    stop = asyncio.Event()
    running = asyncio.create_task(publisher.run(stop))
    yield publisher
    stop.set()
    await running


async def messages_in(js: JetStreamContext, stream: str) -> int:
    return (await js.stream_info(stream)).state.messages


@pytest.mark.usefixtures("publisher")
async def test_rows_are_published_after_commit_and_deleted_without_any_relay(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology
) -> None:
    subject = topology.event("billing", "direct")
    stream = topology.stream("billing", "evt")
    await write_outbox(engine, subject, 5)
    async with batch_transaction(engine) as batch:  # a consumer's group commit publishes too
        async with SqlUnitOfWork(engine) as uow:
            uow.outbox.add(subject, StringValue(value="from-a-batch"))
            await uow.commit()
        assert batch.outbox is uow.outbox
    async with SqlUnitOfWork(engine) as uow:
        uow.outbox.add(subject, StringValue(value="rolled back"))  # never committed

    async def all_published() -> bool:
        return await messages_in(js, stream) == 6 and await outbox_count(engine) == 0

    await wait_until(all_published, 5, "6 committed rows published and deleted")
    assert len(set(await stream_ids(js, stream, subject))) == 6


async def test_rows_whose_publish_never_happened_are_left_to_the_relay_after_its_grace(
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    database_url: str,
    metrics: PlatformMetrics,
) -> None:
    # A publisher that is registered but never runs: its process "died" right after COMMIT,
    # or NATS is down and its queue is full (it holds at most 2 rows in memory).
    stalled = DirectPublisher(engine, js, metrics=metrics, max_queued=2)
    publish_after_commit(engine, stalled.submit)
    subject = topology.event("billing", "orphaned")
    stream = topology.stream("billing", "evt")
    relay = OutboxRelay(
        engine,
        js,
        listen_dsn=asyncpg_dsn(database_url),
        metrics=metrics,
        poll_interval=0.1,
        grace=1.0,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        committed = time.monotonic()
        await write_outbox(engine, subject, 3)

        async def published() -> bool:
            return await messages_in(js, stream) == 3

        assert stalled.queued == 2
        await wait_until(published, 10, "the relay to publish the 3 orphaned rows")
        # Not before the grace period: a live publisher would still be working on them.
        assert time.monotonic() - committed >= 1.0
        assert await outbox_count(engine) == 0
    finally:
        stop.set()
        await running


async def test_published_rows_are_deleted_together_once_due_and_on_stop(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    publisher = DirectPublisher(engine, js, metrics=metrics, delete_delay=60)
    publish_after_commit(engine, publisher.submit)
    subject = topology.event("billing", "deferred")
    stream = topology.stream("billing", "evt")
    stop = asyncio.Event()
    running = asyncio.create_task(publisher.run(stop))
    try:
        await write_outbox(engine, subject, 3)

        # The stream counts a message before its ack reaches the publisher: wait on the
        # publisher's own record of the acks.
        await wait_until(lambda: publisher.undeleted == 3, 5, "3 rows published and acked")
        # Published at once, deleted later in one statement: not a transaction per commit.
        assert await messages_in(js, stream) == 3
        assert await outbox_count(engine) == 3
    finally:
        stop.set()
        await running
    assert await outbox_count(engine) == 0
