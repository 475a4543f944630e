"""Wiring of credit notes and refunds: the RefundService and the `billing-refund-commands`
durable (IssueCreditNoteCommand, RefundCancelledOrderCommand on `<PREFIX>_BILLING_CMD`).

Its own durable, so the saga's invoice commands and these never share a consumer's filter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timezone

import grpc
from surge.billing.v1 import credit_notes_pb2 as pb
from surge.billing.v1 import credit_notes_pb2_grpc as pb_grpc
from surge_platform.service import ConsumerSpec, GrpcService, Infrastructure

from surge_billing.adapters.refund_metrics import RefundMetrics
from surge_billing.entrypoints.refunds_grpc import SERVICE_NAME, RefundServicer
from surge_billing.entrypoints.wiring import command_consumer
from surge_billing.service_layer import refunds
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = ["REFUND_COMMANDS_DURABLE", "refund_components"]

REFUND_COMMANDS_DURABLE = "billing-refund-commands"


def refund_components(
    infra: Infrastructure,
    uow_factory: Callable[[], BillingUnitOfWork],
    books_timezone: timezone,
) -> tuple[GrpcService, ConsumerSpec]:
    ctx = refunds.RefundContext(
        topology=infra.topology,
        metrics=RefundMetrics(infra.registry),
        books_timezone=books_timezone,
        test_failures_enabled=infra.settings.test_failures_enabled,
    )
    consumer = command_consumer(
        infra.topology,
        REFUND_COMMANDS_DURABLE,
        uow_factory,
        [
            (pb.IssueCreditNoteCommand, refunds.issue_credit_note),
            (pb.RefundCancelledOrderCommand, refunds.refund_cancelled_order),
        ],
        ctx,
    )
    servicer = RefundServicer(uow_factory)

    def register(server: grpc.aio.Server) -> None:
        pb_grpc.add_RefundServiceServicer_to_server(servicer, server)

    return GrpcService(SERVICE_NAME, register), consumer
