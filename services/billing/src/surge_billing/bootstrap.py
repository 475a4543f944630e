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

Finance keeps its order ledger from `<prefix>.order.evt.order_status_changed`
(finance.record_order_status, through `entrypoints.ledger_consumer`) on the durable
`billing-order-events` of `<PREFIX>_ORDER_EVT`.
"""

from __future__ import annotations

from datetime import timedelta, timezone

import grpc
from surge.billing.v1 import billing_pb2, billing_pb2_grpc, finance_pb2, finance_pb2_grpc
from surge.order.v1 import order_pb2
from surge_platform.db import on_chunk
from surge_platform.messaging import Route
from surge_platform.service import Components, ConsumerSpec, GrpcService, Infrastructure

from surge_billing.adapters.chunk import ChunkReader, lock_chunk
from surge_billing.adapters.metrics import BillingMetrics
from surge_billing.config import BillingSettings
from surge_billing.entrypoints.finance_api import FinanceServicer
from surge_billing.entrypoints.grpc_api import BillingServicer
from surge_billing.entrypoints.ledger_consumer import LedgerConsumer
from surge_billing.entrypoints.refunds_wiring import refund_components
from surge_billing.entrypoints.wiring import command_consumer
from surge_billing.service_layer import handlers
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = ["COMMANDS_DURABLE", "ORDER_EVENTS_DURABLE", "build", "policy_from"]

COMMANDS_DURABLE = "billing-commands"
# The order ledger (finance): OrderStatusChanged from the order service's event stream.
ORDER_EVENTS_DURABLE = "billing-order-events"


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

    # Group commits take their advisory locks up front, sorted: no deadlock between chunks.
    on_chunk(infra.engine, lock_chunk)
    # ... and then read, under those locks, what the chunk's invoices need (one statement each).
    on_chunk(
        infra.engine,
        ChunkReader(ctx.policy.default_credit_limit_minor, ctx.policy.credit_currency),
    )

    topology = infra.topology

    commands = command_consumer(
        topology,
        COMMANDS_DURABLE,
        uow_factory,
        [
            (billing_pb2.IssueInvoiceCommand, handlers.issue_invoice),
            (billing_pb2.VoidInvoiceCommand, handlers.void_invoice),
            (billing_pb2.RecordPaymentCommand, handlers.record_payment_command),
        ],
        ctx,
    )
    servicer = BillingServicer(uow_factory, ctx)

    def register(server: grpc.aio.Server) -> None:
        billing_pb2_grpc.add_BillingServiceServicer_to_server(servicer, server)

    finance_servicer = FinanceServicer(uow_factory, settings.credit_currency)

    def register_finance(server: grpc.aio.Server) -> None:
        finance_pb2_grpc.add_FinanceServiceServicer_to_server(finance_servicer, server)

    # Credit notes and refunds (returns): their own servicer and durable.
    refund_service, refund_consumer = refund_components(
        infra, uow_factory, ctx.policy.books_timezone
    )

    return Components(
        grpc_services=[
            refund_service,
            GrpcService(
                billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name, register
            ),
            GrpcService(
                finance_pb2.DESCRIPTOR.services_by_name["FinanceService"].full_name,
                register_finance,
            ),
        ],
        consumers=[
            refund_consumer,
            commands,
            ConsumerSpec(
                stream=topology.stream("order", "evt"),
                durable=ORDER_EVENTS_DURABLE,
                routes={
                    topology.subject_for(order_pb2.OrderStatusChanged): Route(
                        order_pb2.OrderStatusChanged,
                        LedgerConsumer(ORDER_EVENTS_DURABLE, infra.engine, uow_factory),
                    )
                },
            ),
        ],
    )
