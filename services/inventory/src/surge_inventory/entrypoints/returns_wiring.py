"""The `inventory-return-commands` durable: RestockReturn and ReverseRestock from the order
service's return saga. Its own durable, so the reservation commands' consumer is unchanged."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from surge.inventory.v1 import returns_pb2 as pb
from surge_platform.inbox import idempotent
from surge_platform.messaging import Route
from surge_platform.service import ConsumerSpec

from surge_inventory.service_layer import returns
from surge_inventory.service_layer.handlers import Deps
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork

__all__ = ["RETURN_COMMANDS_DURABLE", "return_consumer"]

RETURN_COMMANDS_DURABLE = "inventory-return-commands"


def return_consumer(deps: Deps, uow_factory: Callable[[], InventoryUnitOfWork]) -> ConsumerSpec:
    topology = deps.topology

    def route(message_type: Any, handler: Any) -> tuple[str, Route[Any]]:
        bound = functools.partial(handler, deps=deps)
        return topology.subject_for(message_type), Route(
            message_type, idempotent(RETURN_COMMANDS_DURABLE, uow_factory, bound)
        )

    routes = dict(
        [
            route(pb.RestockReturnCommand, returns.restock_return),
            route(pb.ReverseRestockCommand, returns.reverse_restock),
        ]
    )
    return ConsumerSpec(topology.stream("inventory", "cmd"), RETURN_COMMANDS_DURABLE, routes)
