"""Order status changes pushed from NATS to the SSE streams (`GET /v1/orders/{id}/events`).

The order service publishes `OrderStatusChanged` (through its outbox) for every transition. The
gateway listens with one plain NATS subscription, held only while at least one SSE stream is
open, and wakes the streams watching that order; each then reads the order with GetOrder (the
source of truth for the history and its event ids). Without NATS (not configured, down, or
the subscription lost) the streams fall back to polling GetOrder, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from google.protobuf.message import DecodeError
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from surge.order.v1 import order_pb2
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology, connect

__all__ = ["OrderEvents"]

RECONNECT_SECONDS = 2.0

_log = get_logger("surge.gateway.order_events")


class OrderEvents:
    """Wakes the SSE streams of an order when NATS says its status changed."""

    def __init__(self, nats_url: str = "", prefix: str = "surge") -> None:
        self._url = nats_url
        self._subject = Topology(prefix).subject_for(order_pb2.OrderStatusChanged)
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self._client: NatsClient | None = None
        self._subscription: Subscription | None = None
        self._lock = asyncio.Lock()
        self._connector: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """True while changes are pushed; streams poll slowly then, as a safety net only."""
        client = self._client
        return self._subscription is not None and client is not None and client.is_connected

    def start(self) -> None:
        """Connect in the background (retrying): the gateway must start without NATS."""
        if self._url and self._connector is None:
            self._connector = asyncio.create_task(self._connect())

    async def close(self) -> None:
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._client is not None:
            await self._client.close()

    @asynccontextmanager
    async def watch(self, order_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever `order_id` changes status, for as long as the block runs."""
        changed = asyncio.Event()
        async with self._lock:
            self._watchers.setdefault(order_id, set()).add(changed)
            await self._subscribe()
        try:
            yield changed
        finally:
            async with self._lock:
                watchers = self._watchers.get(order_id, set())
                watchers.discard(changed)
                if not watchers:
                    self._watchers.pop(order_id, None)
                if not self._watchers and self._subscription is not None:
                    subscription, self._subscription = self._subscription, None
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()

    def notify(self, order_id: str) -> None:
        for changed in self._watchers.get(order_id, ()):
            changed.set()

    async def _subscribe(self) -> None:
        if self._subscription is not None or self._client is None:
            return
        if not self._client.is_connected:
            return
        self._subscription = await self._client.subscribe(self._subject, cb=self._on_message)

    async def _on_message(self, msg: Msg) -> None:
        event = order_pb2.OrderStatusChanged()
        try:
            event.ParseFromString(msg.data)
        except DecodeError:
            _log.warning("undecodable OrderStatusChanged", subject=msg.subject)
            return
        self.notify(event.order_id)

    async def _connect(self) -> None:
        while self._client is None:
            try:
                self._client = await connect(self._url, "surge-gateway-sse")
            except Exception as exc:
                _log.warning("NATS unavailable; SSE streams poll", error=str(exc))
                await asyncio.sleep(RECONNECT_SECONDS)
        async with self._lock:
            if self._watchers:
                await self._subscribe()
