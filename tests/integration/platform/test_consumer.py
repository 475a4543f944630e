"""Consumers apply each message once, retry with a bound, and dead-letter what never succeeds."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import SqlUnitOfWork, batch_transaction
from surge_platform.inbox import idempotent
from surge_platform.messaging import (
    HEADER_DLQ_DELIVERIES,
    HEADER_DLQ_REASON,
    HEADER_MESSAGE_ID,
    JetStreamConsumer,
    Route,
    Topology,
)
from surge_platform.telemetry import PlatformMetrics

from tests.support import wait_until

pytestmark = pytest.mark.integration


async def record_effect(message: StringValue, uow: SqlUnitOfWork) -> None:
    if message.value.startswith("poison"):
        raise RuntimeError(f"cannot apply {message.value}")
    await uow.connection.execute(
        text(
            "INSERT INTO effects (key, hits) VALUES (:key, 1) "
            "ON CONFLICT (key) DO UPDATE SET hits = effects.hits + 1"
        ),
        {"key": message.value},
    )
    await uow.commit()


async def hits(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT key, hits FROM effects"))).all()
    return {row.key: row.hits for row in rows}


def acked(metrics: PlatformMetrics, durable: str) -> float:
    """How many `record` messages `durable` has acked after applying them."""
    sample = metrics.registry.get_sample_value(
        "surge_consumer_messages_total",
        {"consumer": durable, "message": "record", "outcome": "ok"},
    )
    return sample or 0


def recorder(
    durable: str,
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    metrics: PlatformMetrics,
    **options: Any,
) -> JetStreamConsumer:
    """A consumer applying `record_effect` once per message id, in group commits unless
    `group_commit=None` is passed."""
    subject = topology.command("inventory", "record")
    options.setdefault("group_commit", functools.partial(batch_transaction, engine))
    return JetStreamConsumer(
        js=js,
        topology=topology,
        stream=topology.stream("inventory", "cmd"),
        durable=durable,
        routes={
            subject: Route(
                StringValue, idempotent(durable, lambda: SqlUnitOfWork(engine), record_effect)
            )
        },
        metrics=metrics,
        **options,
    )


@pytest.fixture(params=["group-commit", "per-message"])
async def running_consumer(
    request: pytest.FixtureRequest,
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    metrics: PlatformMetrics,
) -> AsyncIterator[Callable[[], JetStreamConsumer]]:
    consumer = recorder(
        "test-recorder",
        engine,
        js,
        topology,
        metrics,
        max_deliver=3,
        backoff=(0.05, 0.05, 0.05),
        group_commit=(
            functools.partial(batch_transaction, engine)
            if request.param == "group-commit"
            else None
        ),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    yield lambda: consumer
    stop.set()
    await task


async def test_a_message_delivered_twice_is_applied_once(
    running_consumer: Callable[[], JetStreamConsumer],
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    metrics: PlatformMetrics,
) -> None:
    subject = topology.command("inventory", "record")
    payload = StringValue(value="order-1").SerializeToString()
    # Same logical message id twice, different Nats-Msg-Id: JetStream cannot dedupe it for us.
    for attempt in ("a", "b"):
        await js.publish(
            subject,
            payload,
            headers={HEADER_MESSAGE_ID: "msg-1", "Nats-Msg-Id": f"msg-1-{attempt}"},
        )
    await js.publish(
        subject,
        StringValue(value="order-2").SerializeToString(),
        headers={HEADER_MESSAGE_ID: "msg-2"},
    )

    await wait_until(lambda: acked(metrics, "test-recorder") == 3, 10, "three deliveries acked")
    assert await hits(engine) == {"order-1": 1, "order-2": 1}


async def test_poison_message_is_dead_lettered_after_bounded_retries_without_blocking(
    running_consumer: Callable[[], JetStreamConsumer],
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    metrics: PlatformMetrics,
) -> None:
    subject = topology.command("inventory", "record")
    await js.publish(
        subject,
        StringValue(value="poison-1").SerializeToString(),
        headers={HEADER_MESSAGE_ID: "bad-1"},
    )
    await js.publish(subject, b"\xff\xff not protobuf", headers={HEADER_MESSAGE_ID: "bad-2"})
    for n in range(20):
        await js.publish(
            subject,
            StringValue(value=f"good-{n}").SerializeToString(),
            headers={HEADER_MESSAGE_ID: f"good-{n}"},
        )

    async def all_good_applied() -> bool:
        return len(await hits(engine)) == 20

    await wait_until(all_good_applied, 10, "the 20 good messages behind the poison")

    async def two_dead_letters() -> bool:
        return (await js.stream_info(topology.dlq_stream)).state.messages == 2

    await wait_until(two_dead_letters, 10, "both bad messages in the dead-letter stream")
    sub = await js.subscribe(topology.dlq_subject("test-recorder"), ordered_consumer=True)
    letters = [await sub.next_msg(timeout=5) for _ in range(2)]
    await sub.unsubscribe()
    by_id = {(m.headers or {})[HEADER_MESSAGE_ID]: m for m in letters}
    poison = by_id["bad-1"]
    assert (poison.headers or {})[HEADER_DLQ_DELIVERIES] == "3"
    assert "cannot apply poison-1" in (poison.headers or {})[HEADER_DLQ_REASON]
    undecodable = by_id["bad-2"]
    assert (undecodable.headers or {})[HEADER_DLQ_DELIVERIES] == "1"
    assert "undecodable" in (undecodable.headers or {})[HEADER_DLQ_REASON]
    assert all(count == 1 for count in (await hits(engine)).values())
    # The poison's second and third deliveries, as the chaos run's evidence counts them.
    repeated = metrics.registry.get_sample_value(
        "surge_consumer_repeated_deliveries_total", {"consumer": "test-recorder"}
    )
    assert repeated == 2


async def test_a_batch_with_one_failing_message_is_replayed_and_each_effect_happens_once(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    subject = topology.command("inventory", "record")
    for n in range(30):
        value = "poison-in-batch" if n == 7 else f"batched-{n}"
        await js.publish(
            subject,
            StringValue(value=value).SerializeToString(),
            headers={HEADER_MESSAGE_ID: f"b-{n}"},
        )
    consumer = recorder(
        "test-batcher", engine, js, topology, metrics, max_deliver=2, backoff=(0.05,)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:

        async def all_good_applied() -> bool:
            return len(await hits(engine)) == 29

        await wait_until(all_good_applied, 10, "the 29 good messages of the batch")

        async def dead_lettered() -> bool:
            return (await js.stream_info(topology.dlq_stream)).state.messages == 1

        await wait_until(dead_lettered, 10, "the failing message dead-lettered")
    finally:
        stop.set()
        await task
    assert all(count == 1 for count in (await hits(engine)).values())
    fallbacks = metrics.registry.get_sample_value(
        "surge_consumer_batch_fallbacks_total", {"consumer": "test-batcher"}
    )
    assert fallbacks is not None
    assert fallbacks >= 1


async def test_a_fetched_batch_is_applied_in_one_transaction(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    subject = topology.command("inventory", "record")
    for n in range(40):
        await js.publish(
            subject,
            StringValue(value=f"together-{n}").SerializeToString(),
            headers={HEADER_MESSAGE_ID: f"t-{n}"},
        )
    consumer = recorder("test-grouper", engine, js, topology, metrics, batch=64)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:

        async def all_applied() -> bool:
            return len(await hits(engine)) == 40

        await wait_until(all_applied, 10, "the 40 messages")
    finally:
        stop.set()
        await task
    async with engine.connect() as conn:
        transactions = await conn.execute(text("SELECT count(DISTINCT xmin::text) FROM effects"))
        # Rows written by one transaction share its xmin. A fetch may return the 40 messages
        # in a few pieces, but one transaction per message would give 40.
        assert transactions.scalar_one() <= 5
    assert not metrics.registry.get_sample_value(
        "surge_consumer_batch_fallbacks_total", {"consumer": "test-grouper"}
    )


async def test_redelivered_copies_inside_a_batch_are_skipped_without_replaying_it(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    subject = topology.command("inventory", "record")
    for n in range(20):
        # Every other message comes twice (a redelivery after a lost ack looks like this).
        for copy in ("a", "b") if n % 2 else ("a",):
            await js.publish(
                subject,
                StringValue(value=f"dup-{n}").SerializeToString(),
                headers={HEADER_MESSAGE_ID: f"d-{n}", "Nats-Msg-Id": f"d-{n}-{copy}"},
            )
    consumer = recorder("test-deduper", engine, js, topology, metrics, batch=64)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await wait_until(
            lambda: acked(metrics, "test-deduper") == 30, 10, "all 30 deliveries acked"
        )
    finally:
        stop.set()
        await task
    assert await hits(engine) == {f"dup-{n}": 1 for n in range(20)}
    assert not metrics.registry.get_sample_value(
        "surge_consumer_batch_fallbacks_total", {"consumer": "test-deduper"}
    )


async def test_consumer_reports_its_lag(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    subject = topology.command("inventory", "lagging")
    consumer = JetStreamConsumer(
        js=js,
        topology=topology,
        stream=topology.stream("inventory", "cmd"),
        durable="test-lagging",
        routes={
            subject: Route(
                StringValue,
                idempotent("test-lagging", lambda: SqlUnitOfWork(engine), record_effect),
            )
        },
        metrics=metrics,
    )
    await consumer.declare()
    for n in range(3):
        await js.publish(subject, StringValue(value=f"late-{n}").SerializeToString())

    await consumer.observe_lag()

    # Three messages published, none fetched yet: the gauge must say so.
    assert (
        metrics.registry.get_sample_value(
            "surge_consumer_pending_messages", {"consumer": "test-lagging"}
        )
        == 3
    )
