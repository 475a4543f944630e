"""`/v1/invoices`: finance reads invoices; a customer may read their own."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from surge.billing.v1 import billing_pb2

from surge_gateway import convert, schemas
from surge_gateway.api.deps import Downstreams, ensure_visible
from surge_gateway.auth import Finance, InvoiceReader
from surge_gateway.schemas import PRINTABLE

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])

InvoiceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("/{invoice_id}", response_model=schemas.InvoicePublic, summary="One invoice")
async def get_invoice(
    invoice_id: InvoiceId, principal: InvoiceReader, down: Downstreams
) -> schemas.InvoicePublic:
    reply = await down.billing.GetInvoice(
        billing_pb2.GetInvoiceRequest(invoice_id=invoice_id), timeout=down.timeout
    )
    ensure_visible(principal, reply.invoice.customer_id, "Invoice")
    return convert.invoice_public(reply.invoice)


@router.get("", response_model=schemas.InvoicePage, summary="List invoices (finance)")
async def list_invoices(
    principal: Finance,
    down: Downstreams,
    order_id: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
    customer_id: Annotated[str | None, Query(max_length=128, pattern=PRINTABLE)] = None,
    status: Annotated[Literal["issued", "paid", "void"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, pattern=PRINTABLE)] = None,
) -> schemas.InvoicePage:
    reply = await down.billing.ListInvoices(
        billing_pb2.ListInvoicesRequest(
            order_id=order_id or "",
            customer_id=customer_id or "",
            status=billing_pb2.InvoiceStatus.Value(f"INVOICE_STATUS_{status.upper()}")
            if status
            else 0,  # type: ignore[arg-type]
            page_size=limit,
            page_token=cursor or "",
        ),
        timeout=down.timeout,
    )
    return schemas.InvoicePage(
        items=[convert.invoice_public(i) for i in reply.invoices],
        next_cursor=reply.next_page_token or None,
    )
