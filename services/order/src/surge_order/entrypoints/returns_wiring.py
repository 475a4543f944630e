"""Wiring of returns: the ReturnService, the durables for the return saga's replies, and the
sweeper that resends late steps and escalates refund requests left unhandled.

| durable                       | stream            | replies                                  |
|-------------------------------|-------------------|------------------------------------------|
| `order-returns-inventory`     | `<P>_INVENTORY_EVT` | ReturnRestocked, RestockReversed       |
| `order-returns-billing`       | `<P>_BILLING_EVT`   | CreditNoteIssued, CreditNoteRejected   |

Their own durables, so the order saga's consumers and filters stay as they are.
"""

from __future__ import annotations

from datetime import timedelta

from surge.billing.v1 import credit_notes_pb2
from surge.inventory.v1 import returns_pb2 as inventory_returns_pb2
from surge.order.v1 import returns_pb2_grpc
from surge_platform.logging import get_logger
from surge_platform.service import ConsumerSpec, GrpcService, Infrastructure

from surge_order.adapters.returns_metrics import ReturnMetrics
from surge_order.config import OrderSettings
from surge_order.entrypoints.returns_api import SERVICE_NAME, ReturnServicer
from surge_order.entrypoints.wiring import Handled, Timer, event_consumer, sweeper_loop
from surge_order.service_layer.returns import ReturnPolicy, Returns, UowFactory
from surge_order.service_layer.saga import Orchestrator

__all__ = ["RETURN_DURABLES", "return_components"]

RETURN_DURABLES = ("order-returns-inventory", "order-returns-billing")
_log = get_logger("surge.order.returns")


def return_policy(settings: OrderSettings) -> ReturnPolicy:
    return ReturnPolicy(
        window=timedelta(days=settings.return_window_days),
        escalation=timedelta(seconds=settings.refund_escalation_seconds),
        step_deadline_seconds=settings.step_deadline_seconds,
        step_backoff_max_seconds=settings.step_backoff_max_seconds,
        sweep_batch=settings.sweep_batch,
    )


def return_components(
    infra: Infrastructure, orchestrator: Orchestrator, uows: UowFactory
) -> tuple[GrpcService, list[ConsumerSpec], tuple[str, Timer]]:
    settings = infra.settings
    assert isinstance(settings, OrderSettings)
    topology = infra.topology
    returns = Returns(
        topology, orchestrator, ReturnMetrics(infra.registry), return_policy(settings)
    )
    servicer = ReturnServicer(uows, returns)
    handled: dict[str, tuple[str, Handled]] = {
        "order-returns-inventory": (
            "inventory",
            [
                (inventory_returns_pb2.ReturnRestocked, returns.on_restocked),
                (inventory_returns_pb2.RestockReversed, returns.on_restock_reversed),
            ],
        ),
        "order-returns-billing": (
            "billing",
            [
                (credit_notes_pb2.CreditNoteIssued, returns.on_credit_note_issued),
                (credit_notes_pb2.CreditNoteRejected, returns.on_credit_note_rejected),
            ],
        ),
    }
    specs = [
        event_consumer(topology, context, durable, uows, routes)
        for durable, (context, routes) in handled.items()
    ]
    service = GrpcService(
        SERVICE_NAME,
        lambda server: returns_pb2_grpc.add_ReturnServiceServicer_to_server(servicer, server),
    )
    sweeper = sweeper_loop(
        returns.sweep, uows, settings.returns_sweep_seconds, _log, "returns sweep failed; retrying"
    )
    return service, specs, ("returns-sweeper", sweeper)
