"""The composition root: settings -> policy, metrics, unit of work -> servicer and consumers.

The only place that wires handlers to messages:

| subject (`topology.subject_for`)   | handler                           |
|------------------------------------|-----------------------------------|
| `<prefix>.billing.cmd.issue_invoice`  | handlers.issue_invoice          |
| `<prefix>.billing.cmd.void_invoice`   | handlers.void_invoice           |
| `<prefix>.billing.cmd.record_payment` | handlers.record_payment_command |

all on the durable consumer `billing-commands` of the `<PREFIX>_BILLING_CMD` stream. Replies go
through the outbox to `<prefix>.billing.evt.*` (InvoiceIssued, InvoiceRejected, InvoiceVoided,
PaymentRecorded).
"""

from __future__ import annotations

import functools
from datetime import timedelta, timezone
from typing import Any

import grpc
from surge.billing.v1 import billing_pb2, billing_pb2_grpc
from surge_platform.inbox import idempotent
from surge_platform.messaging import Route
from surge_platform.service import Components, ConsumerSpec, GrpcService, Infrastructure

from surge_billing.adapters.metrics import BillingMetrics
from surge_billing.config import BillingSettings
from surge_billing.entrypoints.grpc_api import BillingServicer
from surge_billing.service_layer import handlers
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = ["COMMANDS_DURABLE", "build", "policy_from"]

COMMANDS_DURABLE = "billing-commands"


def policy_from(settings: BillingSettings) -> handlers.BillingPolicy:
    return handlers.BillingPolicy(
        vat_rate_percent=settings.vat_rate_percent,
        default_credit_limit_minor=settings.default_credit_limit_minor,
        credit_currency=settings.credit_currency,
        credit_period=timedelta(days=settings.credit_period_days),
        books_timezone=timezone(timedelta(hours=settings.invoice_utc_offset_hours)),
        test_failures_enabled=settings.test_failures_enabled,
    )


async def build(infra: Infrastructure) -> Components:
    settings = infra.settings
    if not isinstance(settings, BillingSettings):
        raise TypeError("billing needs BillingSettings")
    ctx = handlers.HandlerContext(
        policy=policy_from(settings),
        topology=infra.topology,
        metrics=BillingMetrics(infra.registry),
    )

    def uow_factory() -> BillingUnitOfWork:
        return BillingUnitOfWork(infra.engine)

    topology = infra.topology

    def route(message_type: Any, handler: Any) -> tuple[str, Route[Any]]:
        bound = functools.partial(handler, ctx=ctx)
        return topology.subject_for(message_type), Route(
            message_type, idempotent(COMMANDS_DURABLE, uow_factory, bound)
        )

    routes = dict(
        [
            route(billing_pb2.IssueInvoiceCommand, handlers.issue_invoice),
            route(billing_pb2.VoidInvoiceCommand, handlers.void_invoice),
            route(billing_pb2.RecordPaymentCommand, handlers.record_payment_command),
        ]
    )
    servicer = BillingServicer(uow_factory, ctx)

    def register(server: grpc.aio.Server) -> None:
        billing_pb2_grpc.add_BillingServiceServicer_to_server(servicer, server)

    return Components(
        grpc_services=[
            GrpcService(
                billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name, register
            )
        ],
        consumers=[
            ConsumerSpec(
                stream=topology.stream("billing", "cmd"),
                durable=COMMANDS_DURABLE,
                routes=routes,
            )
        ],
    )
