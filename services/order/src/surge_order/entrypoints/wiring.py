"""Pieces the composition root and the returns wiring both build: event consumers and sweepers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from google.protobuf.message import Message
from surge_platform.inbox import idempotent
from surge_platform.messaging import Route, Topology
from surge_platform.service import ConsumerSpec

from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["Handled", "event_consumer", "sweeper_loop"]

Handler = Callable[[Any, OrderUnitOfWork], Awaitable[None]]
Handled = list[tuple[type[Message], Handler]]
Timer = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def event_consumer(
    topology: Topology,
    context: str,
    durable: str,
    uows: Callable[[], OrderUnitOfWork],
    handled: Handled,
) -> ConsumerSpec:
    """A durable on `context`'s event stream: each message type to its handler, once (inbox)."""
    return ConsumerSpec(
        stream=topology.stream(context, "evt"),
        durable=durable,
        routes={
            topology.subject_for(message_type): Route(
                message_type, idempotent(durable, uows, handler)
            )
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
