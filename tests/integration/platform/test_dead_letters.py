"""Operators can list, redrive and purge dead letters; a redriven message is applied once."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import SqlUnitOfWork
from surge_platform.inbox import idempotent
from surge_platform.messaging import HEADER_MESSAGE_ID, JetStreamConsumer, Route, Topology
from surge_platform.operations import DeadLetters, backlog
from surge_platform.telemetry import PlatformMetrics

from tests.support import wait_until

pytestmark = pytest.mark.integration


async def test_redriven_dead_letter_is_processed_once_after_the_cause_is_fixed(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    broken = True

    async def apply(message: StringValue, uow: SqlUnitOfWork) -> None:
        if broken:
            raise RuntimeError("downstream bug")
        await uow.connection.execute(
            text(
                "INSERT INTO effects (key, hits) VALUES (:k, 1) "
                "ON CONFLICT (key) DO UPDATE SET hits = effects.hits + 1"
            ),
            {"k": message.value},
        )
        await uow.commit()

    subject = topology.command("billing", "apply")
    consumer = JetStreamConsumer(
        js=js,
        topology=topology,
        stream=topology.stream("billing", "cmd"),
        durable="billing-applier",
        routes={
            subject: Route(
                StringValue, idempotent("billing-applier", lambda: SqlUnitOfWork(engine), apply)
            )
        },
        metrics=metrics,
        max_deliver=2,
        backoff=(0.05,),
    )
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    letters = DeadLetters(js, topology, "billing")
    try:
        await js.publish(
            subject, StringValue(value="k1").SerializeToString(), headers={HEADER_MESSAGE_ID: "m-1"}
        )

        async def dead_lettered() -> bool:
            return len(await letters.list()) == 1

        await wait_until(dead_lettered, 10, "the failing message to be dead-lettered")
        [letter] = await letters.list()
        assert letter.subject == subject
        assert letter.consumer == "billing-applier"
        assert "downstream bug" in letter.reason
        # Another service's view does not include billing's dead letters.
        assert await DeadLetters(js, topology, "order").list() == []

        broken = False
        await letters.redrive(letter.sequence)

        async def applied() -> bool:
            async with engine.connect() as conn:
                hits = await conn.execute(text("SELECT hits FROM effects WHERE key = 'k1'"))
                return hits.scalar_one_or_none() == 1

        await wait_until(applied, 10, "the redriven message to be applied")
        assert await letters.list() == []
        # The same original published again (an operator's double redrive) changes nothing.
        await js.publish(
            subject,
            StringValue(value="k1").SerializeToString(),
            headers={HEADER_MESSAGE_ID: "m-1", "Nats-Msg-Id": "again"},
        )
        await wait_until(lambda: _acked(consumer, metrics) >= 2, 10, "the duplicate acked")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT hits FROM effects"))).scalar_one() == 1
    finally:
        stop.set()
        await running


def _acked(consumer: JetStreamConsumer, metrics: PlatformMetrics) -> float:
    ok = metrics.registry.get_sample_value(
        "surge_consumer_messages_total",
        {"consumer": consumer.durable, "message": "apply", "outcome": "ok"},
    )
    return ok or 0


async def test_backlog_reports_unpublished_outbox_rows_and_consumer_lag(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    async with SqlUnitOfWork(engine) as uow:
        uow.outbox.add(topology.event("billing", "x"), StringValue(value="1"))
        await uow.commit()
    consumer = JetStreamConsumer(
        js=js,
        topology=topology,
        stream=topology.stream("billing", "cmd"),
        durable="billing-lagging",
        routes={
            topology.command("billing", "lag"): Route(
                StringValue, idempotent("billing-lagging", lambda: SqlUnitOfWork(engine), _noop)
            )
        },
        metrics=metrics,
    )
    await consumer.declare()
    for _ in range(3):
        await js.publish(topology.command("billing", "lag"), b"")

    found = await backlog(engine, js, topology, "billing")

    assert found.outbox_rows == 1
    assert found.consumers["billing-lagging"] == (3, 0)


async def _noop(message: StringValue, uow: SqlUnitOfWork) -> None:
    await uow.commit()


async def test_purge_removes_a_dead_letter_and_unknown_numbers_are_refused(
    js: JetStreamContext, topology: Topology
) -> None:
    await js.publish(
        topology.dlq_subject("order-saga"),
        b"x",
        headers={"Surge-Dlq-Consumer": "order-saga", "Surge-Dlq-Reason": "bad"},
    )
    letters = DeadLetters(js, topology, "order")
    [letter] = await letters.list()

    await letters.purge(letter.sequence)

    assert await letters.list() == []
    with pytest.raises(LookupError):
        await letters.redrive(letter.sequence)


async def test_a_redriven_message_that_fails_again_is_dead_lettered_again(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    async def always_fails(message: StringValue, uow: SqlUnitOfWork) -> None:
        raise RuntimeError("still broken")

    subject = topology.command("billing", "fragile")
    consumer = JetStreamConsumer(
        js=js,
        topology=topology,
        stream=topology.stream("billing", "cmd"),
        durable="billing-fragile",
        routes={
            subject: Route(
                StringValue,
                idempotent("billing-fragile", lambda: SqlUnitOfWork(engine), always_fails),
            )
        },
        metrics=metrics,
        max_deliver=1,
    )
    letters = DeadLetters(js, topology, "billing")
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await js.publish(
            subject,
            StringValue(value="x").SerializeToString(),
            headers={HEADER_MESSAGE_ID: "m-fragile"},
        )

        async def one_letter() -> bool:
            return len(await letters.list()) == 1

        await wait_until(one_letter, 10, "the first dead letter")
        [first] = await letters.list()
        await letters.redrive(first.sequence)

        async def lettered_again() -> bool:
            found = await letters.list()
            return len(found) == 1 and found[0].sequence != first.sequence

        await wait_until(lettered_again, 10, "the message dead-lettered a second time")
    finally:
        stop.set()
        await running
