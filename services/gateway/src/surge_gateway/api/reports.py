"""`/v1/reports/...`: reconciliation, receivables aging and sales (finance, admin).

JSON by default; `?format=csv` returns the same rows as a CSV download. Each report is computed
by the service that owns its data (billing: reconciliation and aging; order: sales) and only
shaped here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AwareDatetime
from surge.billing.v1 import finance_pb2
from surge.order.v1 import reports_pb2

from surge_gateway import convert
from surge_gateway import finance_schemas as fs
from surge_gateway.api.deps import Downstreams
from surge_gateway.auth import Finance
from surge_gateway.problems import FieldError, ProblemError
from surge_gateway.schemas import PRINTABLE
from surge_gateway.tabular import Row, tabular_response

router = APIRouter(prefix="/v1/reports", tags=["reports"])

ReportFormat = Annotated[Literal["json", "csv"], Query(description="json or csv (a download)")]
From = Annotated[
    AwareDatetime | None,
    Query(alias="from", description="start of the period (incl.); default: start of `to`'s month"),
]
To = Annotated[AwareDatetime | None, Query(alias="to", description="end (excl.); default: now")]
CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
# Reports scan a period in SQL; give them longer than a point read.
REPORT_TIMEOUT = 30.0


def stamp(value: datetime, field: str) -> Timestamp:
    """A query time as a protobuf Timestamp; times outside years 1-9999 in UTC are a 422."""
    try:
        return convert.to_timestamp(value)
    except (OverflowError, ValueError):
        raise ProblemError(
            422, "Time out of range.", errors=[FieldError(field=field, detail="out of range")]
        ) from None


def period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The period asked for; by default the month so far (UTC), what closing the books needs."""
    end = end or datetime.now(UTC)
    stamp(end, "to")
    if start is not None:
        stamp(start, "from")
    if start is None:
        start = end.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if start == end and start.year > 1:  # at midnight on the 1st: the month just closed
            start = (start - timedelta(days=1)).replace(day=1)
    check_period(start, end)
    return start, end


def check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ProblemError(
            422,
            "The period is empty.",
            errors=[FieldError(field="to", detail="must be after from")],
        )


async def _rows(rows: Sequence[Row]) -> AsyncIterator[Row]:
    for row in rows:
        yield row


def _csv(name: str, header: Row, rows: Sequence[Row]) -> StreamingResponse:
    return tabular_response("csv", name, header, _rows(rows))


def _mismatch(m: finance_pb2.ReconciliationMismatch) -> fs.Mismatch:
    return fs.Mismatch(
        kind=convert.enum_name(finance_pb2.MismatchKind, m.kind, "MISMATCH_KIND_"),
        order_id=m.order_id,
        customer_id=m.customer_id,
        order_status=m.order_status or None,
        order_total=convert.money(m.order_total),
        invoiced=convert.money(m.invoiced),
        paid=convert.money(m.paid),
        invoice_id=m.invoice_id or None,
        invoice_number=m.invoice_number or None,
        due_at=convert.timestamp(m.due_at),
        detail=m.detail,
    )


@router.get(
    "/reconciliation",
    response_model=fs.ReconciliationReport,
    summary="Orders vs invoices vs payments for a period: every mismatch (finance)",
    responses=CSV_DOC,
)
async def reconciliation(
    principal: Finance,
    down: Downstreams,
    start: From = None,
    end: To = None,
    as_of: Annotated[AwareDatetime | None, Query(description="default: `to`")] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    format: ReportFormat = "json",
) -> Any:
    start, end = period(start, end)
    request = finance_pb2.GetReconciliationRequest(
        period_start=stamp(start, "from"),
        period_end=stamp(end, "to"),
        currency=currency or "",
    )
    if as_of is not None:
        request.as_of.CopyFrom(stamp(as_of, "as_of"))
    reply = await down.finance.GetReconciliation(request, timeout=REPORT_TIMEOUT)
    s = reply.summary
    report = fs.ReconciliationReport(
        period_start=start,
        period_end=end,
        as_of=as_of or end,
        summary=fs.ReconciliationSummary(
            order_count=s.order_count,
            ordered=convert.money(s.ordered),
            invoiced=convert.money(s.invoiced),
            paid=convert.money(s.paid),
            mismatch_count=s.mismatch_count,
        ),
        mismatches=[_mismatch(m) for m in reply.mismatches],
    )
    if format == "json":
        return report
    header = [
        "kind",
        "order_id",
        "customer_id",
        "order_status",
        "currency",
        "order_total_minor",
        "invoiced_minor",
        "paid_minor",
        "invoice_id",
        "invoice_number",
        "due_at",
        "detail",
    ]
    rows = [
        (
            m.kind,
            m.order_id,
            m.customer_id,
            m.order_status or "",
            m.order_total.currency,
            m.order_total.amount_minor,
            m.invoiced.amount_minor,
            m.paid.amount_minor,
            m.invoice_id or "",
            m.invoice_number or "",
            m.due_at.isoformat() if m.due_at else "",
            m.detail,
        )
        for m in report.mismatches
    ]
    return _csv("reconciliation", header, rows)


def _aging_row(r: finance_pb2.AgingRow) -> fs.AgingRow:
    return fs.AgingRow(
        customer_id=r.customer_id,
        current=convert.money(r.current),
        days_1_30=convert.money(r.days_1_30),
        days_31_60=convert.money(r.days_31_60),
        days_61_90=convert.money(r.days_61_90),
        days_over_90=convert.money(r.days_over_90),
        total=convert.money(r.total),
        invoice_count=r.invoice_count,
    )


@router.get(
    "/aging",
    response_model=fs.AgingReport,
    summary="Accounts receivable per customer by days past due (finance)",
    responses=CSV_DOC,
)
async def aging(
    principal: Finance,
    down: Downstreams,
    as_of: Annotated[AwareDatetime | None, Query(description="default: now")] = None,
    customer_id: Annotated[str | None, Query(max_length=128, pattern=PRINTABLE)] = None,
    format: ReportFormat = "json",
) -> Any:
    moment = as_of or datetime.now(UTC)
    reply = await down.finance.GetReceivablesAging(
        finance_pb2.GetReceivablesAgingRequest(
            as_of=stamp(moment, "as_of"), customer_id=customer_id or ""
        ),
        timeout=REPORT_TIMEOUT,
    )
    report = fs.AgingReport(
        as_of=moment, rows=[_aging_row(r) for r in reply.rows], total=_aging_row(reply.total)
    )
    if format == "json":
        return report
    header = [
        "customer_id",
        "currency",
        "current_minor",
        "days_1_30_minor",
        "days_31_60_minor",
        "days_61_90_minor",
        "days_over_90_minor",
        "total_minor",
        "invoice_count",
    ]
    rows = [
        (
            r.customer_id,
            r.total.currency,
            r.current.amount_minor,
            r.days_1_30.amount_minor,
            r.days_31_60.amount_minor,
            r.days_61_90.amount_minor,
            r.days_over_90.amount_minor,
            r.total.amount_minor,
            r.invoice_count,
        )
        for r in report.rows
    ]
    return _csv("aging", header, rows)


def _sales_row(r: reports_pb2.SalesRow) -> fs.SalesRow:
    return fs.SalesRow(
        key=r.key,
        order_count=r.order_count,
        gmv=convert.money(r.gmv),
        average_order_value=convert.money(r.average_order_value),
        refunds=convert.money(r.refunds),
        units=r.units,
    )


@router.get(
    "/sales",
    response_model=fs.SalesReport,
    summary="GMV, orders, average order value, refunds by day, channel, SKU or customer",
    responses=CSV_DOC,
)
async def sales(
    principal: Finance,
    down: Downstreams,
    start: From = None,
    end: To = None,
    group_by: Annotated[fs.SalesGroupName, Query()] = "day",
    time_zone: Annotated[
        str, Query(max_length=64, pattern=r"^[A-Za-z0-9_/+-]+$", description="for days")
    ] = "UTC",
    channel: Annotated[str | None, Query(max_length=32, pattern=PRINTABLE)] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    format: ReportFormat = "json",
) -> Any:
    start, end = period(start, end)
    reply = await down.reports.GetSalesReport(
        reports_pb2.GetSalesReportRequest(
            period_start=stamp(start, "from"),
            period_end=stamp(end, "to"),
            group_by=f"SALES_GROUPING_{group_by.upper()}",
            time_zone=time_zone,
            channel=channel or "",
            currency=currency or "",
        ),
        timeout=REPORT_TIMEOUT,
    )
    report = fs.SalesReport(
        period_start=start,
        period_end=end,
        group_by=group_by,
        rows=[_sales_row(r) for r in reply.rows],
        total=_sales_row(reply.total),
    )
    if format == "json":
        return report
    header = (
        f"{group_by} currency order_count gmv_minor average_order_value_minor refunds_minor units"
    ).split()
    rows = [
        (
            r.key,
            r.gmv.currency,
            r.order_count,
            r.gmv.amount_minor,
            r.average_order_value.amount_minor,
            r.refunds.amount_minor,
            r.units,
        )
        for r in [*report.rows, report.total]
    ]
    return _csv(f"sales-by-{group_by}", header, rows)
