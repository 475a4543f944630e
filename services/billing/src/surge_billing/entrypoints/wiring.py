"""The command consumers the composition root and the refunds wiring both build."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from surge_platform.inbox import idempotent
from surge_platform.messaging import Route, Topology
from surge_platform.service import ConsumerSpec

from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = ["command_consumer"]


def command_consumer(
    topology: Topology,
    durable: str,
    uow_factory: Callable[[], BillingUnitOfWork],
    handled: list[tuple[Any, Any]],
    ctx: Any,
) -> ConsumerSpec:
    """A durable on billing's command stream: each command to its handler (given `ctx`), once."""
    routes: dict[str, Route[Any]] = {
        topology.subject_for(message_type): Route(
            message_type,
            idempotent(durable, uow_factory, functools.partial(handler, ctx=ctx)),
        )
        for message_type, handler in handled
    }
    return ConsumerSpec(topology.stream("billing", "cmd"), durable, routes)
