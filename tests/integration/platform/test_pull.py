"""`PullFeed`: requests stay outstanding, so messages arrive without a request per turn, in
order, none lost — across request expiry and a NATS restart."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from surge_platform.messaging import Topology, connect
from surge_platform.pull import PullFeed
from surge_platform.testing.servers import NatsServer, free_port

from tests.support import wait_until

pytestmark = pytest.mark.integration

DURABLE = "test-pull-feed"


async def _declare(js: JetStreamContext, topology: Topology) -> tuple[str, str]:
    stream = topology.stream("billing", "cmd")
    subject = topology.command("billing", "pull_feed")
    await js.add_consumer(
        stream,
        ConsumerConfig(durable_name=DURABLE, ack_policy=AckPolicy.EXPLICIT, filter_subject=subject),
    )
    return stream, subject


async def _take_all(feed: PullFeed, count: int, *, limit: int = 100) -> list[bytes]:
    taken: list[bytes] = []
    deadline = time.monotonic() + 15
    while len(taken) < count and time.monotonic() < deadline:
        for msg in await feed.take(limit, timeout=0.5):
            taken.append(msg.data)
            await msg.ack()
    return taken


async def _take_until(feed: PullFeed, wanted: bytes) -> list[bytes]:
    taken: list[bytes] = []
    deadline = time.monotonic() + 15
    while wanted not in taken and time.monotonic() < deadline:
        for msg in await feed.take(100, timeout=0.5):
            taken.append(msg.data)
            await msg.ack()
    return taken


async def _published(js: JetStreamContext, subject: str, data: bytes) -> bool:
    try:
        await js.publish(subject, data, timeout=1, headers={"Nats-Msg-Id": data.decode()})
    except Exception:
        return False  # JetStream still recovering its streams after the restart
    return True


@pytest.fixture
async def feed(js: JetStreamContext, topology: Topology) -> AsyncIterator[PullFeed]:
    stream, _ = await _declare(js, topology)
    feed = PullFeed(js, stream, DURABLE, window=4)
    await feed.start()
    yield feed
    await feed.stop()


async def test_messages_are_pushed_to_the_feed_without_asking_again(
    js: JetStreamContext, topology: Topology, feed: PullFeed
) -> None:
    await js.publish(topology.command("billing", "pull_feed"), b"m0")

    # No take() ran since start(): the request made there is still outstanding and delivers.
    await wait_until(lambda: feed.ready == 1, 5, "the message pushed to the feed")
    assert feed.requested == 3


async def test_more_messages_than_the_window_all_arrive_in_order_at_most_limit_per_take(
    js: JetStreamContext, topology: Topology, feed: PullFeed
) -> None:
    subject = topology.command("billing", "pull_feed")
    for n in range(11):
        await js.publish(subject, f"m{n}".encode())

    await wait_until(lambda: feed.ready == 4, 5, "a full window delivered")
    first = await feed.take(3)
    rest = await _take_all(feed, 8)

    assert [m.data for m in first] == [b"m0", b"m1", b"m2"]
    assert rest == [f"m{n}".encode() for n in range(3, 11)]


async def test_expired_requests_are_asked_again(js: JetStreamContext, topology: Topology) -> None:
    stream, subject = await _declare(js, topology)
    feed = PullFeed(js, stream, DURABLE, window=4, expires=0.3, heartbeat=0.1)
    await feed.start()
    try:
        # The server answers the expired request with 408 and how much of it went undelivered.
        await wait_until(lambda: feed.requested == 0, 5, "the expired request given up")
        assert await feed.take(10, timeout=0.1) == []
        assert feed.requested == 4

        await js.publish(subject, b"after expiry")

        assert await _take_all(feed, 1) == [b"after expiry"]
    finally:
        await feed.stop()


async def test_after_a_nats_restart_the_feed_asks_again_and_nothing_is_lost(
    tmp_path: Path, nats_prefix: str
) -> None:
    server = NatsServer(tmp_path / "nats", free_port())
    server.start()
    nc = await connect(server.url, "test-pull-restart")
    try:
        js = nc.jetstream()
        topology = Topology(nats_prefix)
        await topology.ensure_streams(js)
        stream, subject = await _declare(js, topology)
        feed = PullFeed(js, stream, DURABLE, window=4, heartbeat=0.2)
        await feed.start()
        await js.publish(subject, b"before")
        assert await _take_all(feed, 1) == [b"before"]

        # Killed, the server cannot tell us it forgot our outstanding requests (a graceful
        # shutdown answers them with 409): only the missing heartbeats tell.
        assert server.process is not None
        server.process.kill()
        server.process.wait(5)
        server.start()
        await wait_until(lambda: nc.is_connected, 10, "the client reconnected")
        await wait_until(lambda: _published(js, subject, b"after restart"), 15, "JetStream back")

        # "before" may come again: its ack was in flight when the server died (at least once).
        assert (await _take_until(feed, b"after restart"))[-1:] == [b"after restart"]
        await feed.stop()
    finally:
        await nc.close()
        server.stop()
