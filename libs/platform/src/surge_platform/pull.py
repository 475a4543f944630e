"""A continuous pull from a JetStream durable: messages arrive while the last batch is processed.

nats-py only offers `fetch()`: one pull request per call, answered, then nothing is requested
until the caller comes back. A consume loop built on it pays a request (and, to take "whatever
else is ready" without lingering, a second one answered by a 404) on every turn — on every hop
of every saga, and in lock step: nothing arrives while a batch is being handled.

`PullFeed` keeps pull requests outstanding instead, the way nats.go's `Consumer.Consume()` does
(jetstream/pull.go): it asks for `window` messages, and asks again for what was used once fewer
than half remain requested. The server pushes messages to our inbox as they are published;
`take()` waits for the first and takes what else has arrived. Requests expire after `expires`
and carry an idle heartbeat: the server's 408/409 answers say how many messages of a request
were never delivered (`Nats-Pending-Messages`), and a silence longer than a few heartbeats
(a lost request, a NATS restart) resets the count and asks again.

Messages waiting in the inbox count against the consumer's `ack_wait` like any delivered
message, which is why the window is one batch, not more.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from surge_platform.logging import get_logger

__all__ = ["PullFeed"]

_HEARTBEAT = "100"
_PENDING_MESSAGES = "Nats-Pending-Messages"
# How many heartbeats may go missing before the outstanding requests are presumed lost.
_MISSED_HEARTBEATS = 3


class PullFeed:
    """Keeps up to `window` messages requested from one durable pull consumer."""

    def __init__(
        self,
        js: JetStreamContext,
        stream: str,
        durable: str,
        *,
        window: int = 128,
        expires: float = 30.0,
        heartbeat: float = 1.0,
    ) -> None:
        # The connection and the JetStream API prefix (`$JS.API` unless a domain or prefix is
        # configured): nats-py keeps both private; uv.lock pins the version and
        # tests/integration/platform/test_pull.py covers this class against a real server.
        self._nc: NatsClient = js._nc
        self._next_subject = f"{js._prefix}.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._window = window
        self._expires = expires
        self._heartbeat = heartbeat
        self._requested = 0  # asked for and neither delivered nor given up by the server
        self._ready: collections.deque[Msg] = collections.deque()
        self._arrived = asyncio.Event()
        self._last_heard = time.monotonic()
        self._inbox = ""
        self._subscription: Subscription | None = None
        self._log = get_logger("surge.consumer")

    async def start(self) -> None:
        self._inbox = self._nc.new_inbox()
        self._subscription = await self._nc.subscribe(self._inbox, cb=self._on_message)
        await self._request_more()

    async def stop(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None

    @property
    def requested(self) -> int:
        """Messages asked for that the server has neither delivered nor given up on."""
        return self._requested

    @property
    def ready(self) -> int:
        """Messages delivered and not yet taken."""
        return len(self._ready)

    async def take(self, limit: int, *, timeout: float = 1.0) -> list[Msg]:
        """Wait up to `timeout` for a message, then return it with whatever else has arrived,
        at most `limit`; asks the server for more when the window runs low."""
        if not self._ready:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._arrived.wait()
        taken = [self._ready.popleft() for _ in range(min(limit, len(self._ready)))]
        if time.monotonic() - self._last_heard > _MISSED_HEARTBEATS * self._heartbeat:
            # Neither messages nor heartbeats: our requests died with a connection or a
            # server restart, or never arrived. Start over.
            self._requested = 0
            self._last_heard = time.monotonic()
        await self._request_more()
        return taken

    async def _request_more(self) -> None:
        wanted = self._window - self._requested - len(self._ready)
        if self._requested > self._window // 2 or wanted <= 0 or self._nc.is_reconnecting:
            return
        request = {
            "batch": wanted,
            "expires": int(self._expires * 1e9),
            "idle_heartbeat": int(self._heartbeat * 1e9),
        }
        try:
            await self._nc.publish(
                self._next_subject, json.dumps(request).encode(), reply=self._inbox
            )
        except Exception:
            self._log.warning("pull request failed; asking again", exc_info=True)
            return
        self._requested += wanted

    async def _on_message(self, msg: Msg) -> None:
        self._last_heard = time.monotonic()
        status = JetStreamContext.is_status_msg(msg)
        if status is None:
            self._requested = max(0, self._requested - 1)
            self._ready.append(msg)
            self._arrived.set()
        elif status != _HEARTBEAT:
            # 408 (request expired) and 409 (e.g. leadership change, too many waiting) end a
            # request and say how much of it went undelivered; anything else ends them all.
            undelivered = (msg.headers or {}).get(_PENDING_MESSAGES)
            if undelivered is not None and undelivered.isdigit():
                self._requested = max(0, self._requested - int(undelivered))
            else:
                self._requested = 0
            self._arrived.set()  # wake `take()` so that it asks again
