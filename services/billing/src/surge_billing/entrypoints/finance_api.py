"""FinanceService over gRPC: reconciliation, receivables aging and invoice export."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from surge.billing.v1 import finance_pb2, finance_pb2_grpc
from surge_platform import errors

from surge_billing.adapters.finance_repository import AgingBucketRow
from surge_billing.service_layer import convert, finance
from surge_billing.service_layer.convert import money
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = ["EXPORT_PAGE", "FinanceServicer"]

Context = grpc.aio.ServicerContext[Any, Any]

# Invoices per streamed chunk: bounded memory in billing, few messages on the wire.
EXPORT_PAGE = 500

_KIND_PB = {
    finance.MismatchKind.UNPAID_PAST_DUE: finance_pb2.MISMATCH_KIND_UNPAID_PAST_DUE,
    finance.MismatchKind.PAID_NOT_INVOICED: finance_pb2.MISMATCH_KIND_PAID_NOT_INVOICED,
    finance.MismatchKind.ORDER_INVOICE_AMOUNT: finance_pb2.MISMATCH_KIND_ORDER_INVOICE_AMOUNT,
    finance.MismatchKind.PAYMENT_AMOUNT: finance_pb2.MISMATCH_KIND_PAYMENT_AMOUNT,
    finance.MismatchKind.ORDER_NOT_INVOICED: finance_pb2.MISMATCH_KIND_ORDER_NOT_INVOICED,
}


class FinanceServicer(finance_pb2_grpc.FinanceServiceServicer):
    def __init__(self, uow_factory: Callable[[], BillingUnitOfWork], default_currency: str) -> None:
        self._uow = uow_factory
        self._currency = default_currency

    async def GetReconciliation(  # noqa: N802 - gRPC method names
        self, request: finance_pb2.GetReconciliationRequest, context: Context
    ) -> finance_pb2.GetReconciliationResponse:
        problems: dict[str, str] = {}
        if not request.HasField("period_start"):
            problems["period_start"] = "is required"
        if not request.HasField("period_end"):
            problems["period_end"] = "is required"
        currency = request.currency or self._currency
        if not convert.CURRENCY.match(currency):
            problems["currency"] = "must be an ISO 4217 code"
        if problems:
            raise errors.InvalidArgument("invalid reconciliation request", problems)
        start, end = _at(request.period_start), _at(request.period_end)
        if end <= start:
            raise errors.InvalidArgument(
                "empty period", {"period_end": "must be after period_start"}
            )
        as_of = _at(request.as_of) if request.HasField("as_of") else end
        report = await finance.reconcile(
            self._uow(), start=start, end=end, as_of=as_of, currency=currency
        )
        return finance_pb2.GetReconciliationResponse(
            mismatches=[_mismatch(m, currency) for m in report.mismatches],
            summary=finance_pb2.ReconciliationSummary(
                order_count=len(report.books),
                ordered=money(report.ordered_minor, currency),
                invoiced=money(report.invoiced_minor, currency),
                paid=money(report.paid_minor, currency),
                mismatch_count=len(report.mismatches),
            ),
        )

    async def GetReceivablesAging(  # noqa: N802
        self, request: finance_pb2.GetReceivablesAgingRequest, context: Context
    ) -> finance_pb2.GetReceivablesAgingResponse:
        as_of = _at(request.as_of) if request.HasField("as_of") else datetime.now(UTC)
        rows = await finance.aging(self._uow(), as_of=as_of, customer_id=request.customer_id)
        total = AgingBucketRow(
            customer_id="",
            currency=rows[0].currency if rows else self._currency,
            current_minor=sum(r.current_minor for r in rows),
            days_1_30_minor=sum(r.days_1_30_minor for r in rows),
            days_31_60_minor=sum(r.days_31_60_minor for r in rows),
            days_61_90_minor=sum(r.days_61_90_minor for r in rows),
            days_over_90_minor=sum(r.days_over_90_minor for r in rows),
            invoice_count=sum(r.invoice_count for r in rows),
        )
        return finance_pb2.GetReceivablesAgingResponse(
            rows=[_aging(r) for r in rows], total=_aging(total)
        )

    async def ExportInvoices(  # noqa: N802
        self, request: finance_pb2.ExportInvoicesRequest, context: Context
    ) -> AsyncIterator[finance_pb2.ExportInvoicesResponse]:
        try:
            status = convert.status_from_proto(request.status)
        except KeyError:
            # The platform interceptor maps domain errors for unary rpcs only: abort here.
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"unknown invoice status {request.status}"
            )
        after: str | None = None
        while True:
            # One short transaction per page: a long export never pins a snapshot.
            async with self._uow() as uow:
                page = await uow.ledger.invoices_after(
                    after_id=after,
                    status=status,
                    customer_id=request.customer_id,
                    issued_from=_at(request.issued_from)
                    if request.HasField("issued_from")
                    else None,
                    issued_to=_at(request.issued_to) if request.HasField("issued_to") else None,
                    limit=EXPORT_PAGE,
                )
            if page:
                yield finance_pb2.ExportInvoicesResponse(
                    invoices=[convert.invoice_to_proto(i) for i in page]
                )
            if len(page) < EXPORT_PAGE:
                return
            after = page[-1].id


def _at(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def _mismatch(m: finance.Mismatch, currency: str) -> finance_pb2.ReconciliationMismatch:
    b = m.books
    message = finance_pb2.ReconciliationMismatch(
        kind=_KIND_PB[m.kind],
        order_id=b.order_id,
        customer_id=b.customer_id,
        order_total=money(b.order_total_minor or 0, currency),
        invoiced=money(b.invoiced_net_minor, currency),
        paid=money(b.paid_net_minor, currency),
        invoice_id=b.invoice_id,
        invoice_number=b.invoice_number,
        order_status=b.order_status,
        detail=m.detail,
    )
    if b.due_at is not None:
        message.due_at.FromDatetime(b.due_at)
    return message


def _aging(row: AgingBucketRow) -> finance_pb2.AgingRow:
    c = row.currency
    return finance_pb2.AgingRow(
        customer_id=row.customer_id,
        current=money(row.current_minor, c),
        days_1_30=money(row.days_1_30_minor, c),
        days_31_60=money(row.days_31_60_minor, c),
        days_61_90=money(row.days_61_90_minor, c),
        days_over_90=money(row.days_over_90_minor, c),
        total=money(
            row.current_minor
            + row.days_1_30_minor
            + row.days_31_60_minor
            + row.days_61_90_minor
            + row.days_over_90_minor,
            c,
        ),
        invoice_count=row.invoice_count,
    )
