"""`/v1/exports/...`: orders (operator, finance, admin) and invoices (finance, admin) as CSV or
XLSX downloads, for any filter.

Rows are streamed: orders page by page through ListOrders, invoices from billing's
ExportInvoices stream. The first page is fetched before the response starts, so a bad filter
is still a 422/404 problem rather than a broken download.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AwareDatetime
from surge.billing.v1 import billing_pb2, finance_pb2
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2

from surge_gateway import convert, schemas
from surge_gateway import finance_schemas as fs
from surge_gateway.api.deps import Downstreams
from surge_gateway.api.reports import check_period, stamp
from surge_gateway.auth import Finance, Staff
from surge_gateway.schemas import PRINTABLE
from surge_gateway.tabular import XLSX_MEDIA, Format, Row, tabular_response

router = APIRouter(prefix="/v1/exports", tags=["exports"])

ExportFormat = Annotated[Format, Query(description="csv or xlsx")]
Since = Annotated[
    AwareDatetime | None, Query(alias="from", description="created/issued at or after")
]
Until = Annotated[AwareDatetime | None, Query(alias="to", description="created/issued before")]
DOWNLOAD_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The rows, header first",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_MEDIA: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
# A whole export may take minutes; each call (a page, the stream) gets this deadline.
EXPORT_TIMEOUT = 600.0
PAGE = 500

ORDER_COLUMNS = [
    "id",
    "client_order_id",
    "channel",
    "external_id",
    "customer_id",
    "status",
    "payment_terms",
    "currency",
    "subtotal_minor",
    "discount_minor",
    "total_minor",
    "coupon_code",
    "tags",
    "lines",
    "created_at",
    "updated_at",
]
INVOICE_COLUMNS = [
    "id",
    "number",
    "order_id",
    "customer_id",
    "status",
    "payment_terms",
    "currency",
    "subtotal_minor",
    "tax_minor",
    "discount_minor",
    "total_minor",
    "issued_at",
    "due_at",
    "paid_at",
    "voided_at",
    "void_reason",
]


def _iso(ts: Any) -> str:
    at = convert.timestamp(ts)
    return at.isoformat() if at else ""


def order_row(o: order_pb2.Order) -> Row:
    return (
        o.id,
        o.client_order_id,
        o.channel,
        o.external_id,
        o.customer.id,
        convert.enum_name(order_pb2.OrderStatus, o.status, "ORDER_STATUS_") or "",
        convert.enum_name(common_pb2.PaymentTerms, o.payment_terms, "PAYMENT_TERMS_") or "",
        o.total.currency,
        o.subtotal.amount_minor,
        o.discount_total.amount_minor,
        o.total.amount_minor,
        o.coupon_code,
        " ".join(o.tags),
        # sku x quantity = line total, one per line: readable in a spreadsheet cell.
        "; ".join(f"{ln.sku} x{ln.quantity} = {ln.line_total.amount_minor}" for ln in o.lines),
        _iso(o.created_at),
        _iso(o.updated_at),
    )


def _window(
    start: datetime | None, end: datetime | None
) -> tuple[Timestamp | None, Timestamp | None]:
    """An export's optional bounds as timestamps (None: unbounded); both given must not be empty."""
    if start is not None and end is not None:
        check_period(start, end)
    return (
        None if start is None else stamp(start, "from"),
        None if end is None else stamp(end, "to"),
    )


def invoice_row(i: billing_pb2.Invoice) -> Row:
    return (
        i.id,
        i.number,
        i.order_id,
        i.customer_id,
        convert.enum_name(billing_pb2.InvoiceStatus, i.status, "INVOICE_STATUS_") or "",
        convert.enum_name(common_pb2.PaymentTerms, i.payment_terms, "PAYMENT_TERMS_") or "",
        i.total.currency,
        i.subtotal.amount_minor,
        i.tax.amount_minor,
        i.discount_total.amount_minor,
        i.total.amount_minor,
        _iso(i.issued_at),
        _iso(i.due_at),
        _iso(i.paid_at),
        _iso(i.voided_at),
        i.void_reason,
    )


@router.get(
    "/orders",
    summary="Orders matching the filters as a CSV or XLSX download (staff)",
    response_class=StreamingResponse,
    responses=DOWNLOAD_DOC,
)
async def export_orders(
    principal: Staff,
    down: Downstreams,
    format: ExportFormat = "csv",
    status: Annotated[schemas.OrderStatusName | None, Query()] = None,
    channel: Annotated[str | None, Query(max_length=32, pattern=PRINTABLE)] = None,
    customer_id: Annotated[str | None, Query(max_length=128, pattern=PRINTABLE)] = None,
    start: Since = None,
    end: Until = None,
) -> StreamingResponse:
    since, until = _window(start, end)
    request = order_pb2.ListOrdersRequest(
        status=convert.order_status_value(status) if status else 0,  # type: ignore[arg-type]
        channel=channel or "",
        customer_id=customer_id or "",
        created_from=since,
        created_to=until,
        page_size=PAGE,
    )
    first = await down.orders.ListOrders(request, timeout=EXPORT_TIMEOUT)

    async def rows() -> AsyncIterator[Row]:
        page = first
        while True:
            for order in page.orders:
                yield order_row(order)
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token
            page = await down.orders.ListOrders(request, timeout=EXPORT_TIMEOUT)

    return tabular_response(format, "orders", ORDER_COLUMNS, rows())


@router.get(
    "/invoices",
    summary="Invoices matching the filters as a CSV or XLSX download (finance)",
    response_class=StreamingResponse,
    responses=DOWNLOAD_DOC,
)
async def export_invoices(
    principal: Finance,
    down: Downstreams,
    format: ExportFormat = "csv",
    status: Annotated[fs.InvoiceStatusName | None, Query()] = None,
    customer_id: Annotated[str | None, Query(max_length=128, pattern=PRINTABLE)] = None,
    start: Since = None,
    end: Until = None,
) -> StreamingResponse:
    since, until = _window(start, end)
    request = finance_pb2.ExportInvoicesRequest(
        status=billing_pb2.InvoiceStatus.Value(f"INVOICE_STATUS_{status.upper()}") if status else 0,  # type: ignore[arg-type]
        customer_id=customer_id or "",
        issued_from=since,
        issued_to=until,
    )
    stream = down.finance.ExportInvoices(request, timeout=EXPORT_TIMEOUT).__aiter__()
    # Read the first chunk now: an error from billing becomes a problem, not a torn download.
    first = await anext(stream, None)

    async def rows() -> AsyncIterator[Row]:
        if first is None:
            return
        for invoice in first.invoices:
            yield invoice_row(invoice)
        async for chunk in stream:
            for invoice in chunk.invoices:
                yield invoice_row(invoice)

    return tabular_response(format, "invoices", INVOICE_COLUMNS, rows())
