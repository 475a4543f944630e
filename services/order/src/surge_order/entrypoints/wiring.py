"""Pieces the composition root and the returns wiring both build: event consumers and sweepers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from google.protobuf.message import Message
from surge_platform.db import current_batch
from surge_platform.inbox import IdempotentHandler, idempotent
from surge_platform.messaging import Envelope, Route, Topology
from surge_platform.service import ConsumerSpec

from surge_order.adapters.repository import order_key
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["Handled", "SagaReply", "event_consumer", "sweeper_loop"]

Handler = Callable[[Any, OrderUnitOfWork], Awaitable[None]]
Handled = list[tuple[type[Message], Handler]]
Timer = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class SagaReply:
    """`idempotent()` for a saga durable, one round trip shorter for a message handled alone:
    its inbox claim and the lock of the order it names are one statement
    (`OrderRepository.claim_and_lock`), and the handler's `lock()` answers from it. In a group
    commit the consumer has claimed the chunk's ids and `lock_chunk` locked its orders already,
    so it is the plain `IdempotentHandler` there. Every saga handler starts by locking the order
    of the message (`Orchestrator`), so locking it a moment earlier changes nothing."""

    def __init__(
        self, consumer: str, uows: Callable[[], OrderUnitOfWork], handler: Handler
    ) -> None:
        self.inbox_consumer = consumer  # read by the consumer to claim a group commit's ids
        self._uows = uows
        self._handler = handler
        self._in_batch: IdempotentHandler[Any, OrderUnitOfWork] = idempotent(
            consumer, uows, handler
        )

    async def __call__(self, message: Any, envelope: Envelope) -> None:
        order_id = order_key(message)
        if current_batch() is not None or order_id is None:
            await self._in_batch(message, envelope)
            return
        async with self._uows() as uow:
            if not await uow.orders.claim_and_lock(
                self.inbox_consumer, envelope.message_id, order_id
            ):
                await uow.commit()  # applied before: nothing to do (as `IdempotentHandler`)
                return
            await self._handler(message, uow)


def event_consumer(
    topology: Topology,
    context: str,
    durable: str,
    uows: Callable[[], OrderUnitOfWork],
    handled: Handled,
    *,
    saga: bool = False,
) -> ConsumerSpec:
    """A durable on `context`'s event stream: each message type to its handler, once (inbox).
    `saga`: the handlers lock the order each message names first (`SagaReply`)."""
    wrap = SagaReply if saga else idempotent
    return ConsumerSpec(
        stream=topology.stream(context, "evt"),
        durable=durable,
        routes={
            topology.subject_for(message_type): Route(message_type, wrap(durable, uows, handler))
            for message_type, handler in handled
        },
    )


def sweeper_loop(
    sweep: Callable[[OrderUnitOfWork], Awaitable[int]],
    uows: Callable[[], OrderUnitOfWork],
    interval: float,
    log: Any,
    failure: str,
) -> Timer:
    """Every `interval` seconds (at once after a busy pass), one `sweep` in its own transaction."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with uows() as uow:
                    touched = await sweep(uow)
            except Exception:
                log.exception(failure)
                touched = 0
            if touched:
                continue  # a full batch may have more behind it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    return run
