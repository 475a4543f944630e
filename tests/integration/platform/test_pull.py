"""`take_ready`: what a pull consumer has ready, answered at once, nothing lost or lingering."""

from __future__ import annotations

import time

import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from surge_platform.messaging import Topology
from surge_platform.pull import take_ready

pytestmark = pytest.mark.integration


@pytest.fixture
async def pull(js: JetStreamContext, topology: Topology) -> JetStreamContext.PullSubscription:
    stream = topology.stream("billing", "cmd")
    await js.add_consumer(
        stream,
        ConsumerConfig(
            durable_name="test-take-ready",
            ack_policy=AckPolicy.EXPLICIT,
            filter_subject=topology.command("billing", "take_ready"),
        ),
    )
    return await js.pull_subscribe_bind("test-take-ready", stream)


async def test_it_returns_the_ready_messages_up_to_the_limit_and_leaves_the_rest(
    js: JetStreamContext, topology: Topology, pull: JetStreamContext.PullSubscription
) -> None:
    subject = topology.command("billing", "take_ready")
    for n in range(5):
        await js.publish(subject, f"m{n}".encode())

    first = await take_ready(pull, 3)
    rest = await take_ready(pull, 10)

    assert [m.data for m in first] == [b"m0", b"m1", b"m2"]
    assert [m.data for m in rest] == [b"m3", b"m4"]


async def test_with_nothing_ready_it_answers_at_once_instead_of_lingering(
    pull: JetStreamContext.PullSubscription,
) -> None:
    started = time.monotonic()
    taken = await take_ready(pull, 100, timeout=2.0)
    elapsed = time.monotonic() - started

    assert taken == []
    # The server's "no messages" status ends the wait, well before the 2 s safety timeout.
    assert elapsed < 1.0


async def test_a_message_published_later_is_still_fetched(
    js: JetStreamContext, topology: Topology, pull: JetStreamContext.PullSubscription
) -> None:
    assert await take_ready(pull, 10) == []
    await js.publish(topology.command("billing", "take_ready"), b"late")

    fetched = await pull.fetch(1, timeout=5)

    assert [m.data for m in fetched] == [b"late"]
