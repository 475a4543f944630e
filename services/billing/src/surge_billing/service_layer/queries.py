"""Read-only queries behind the BillingService rpcs (no commit: the transaction rolls back)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from surge_platform import errors

from surge_billing.adapters.repository import is_uuid
from surge_billing.domain.credit import Credit
from surge_billing.domain.invoices import Invoice, InvoiceStatus
from surge_billing.service_layer.handlers import BillingPolicy, credit_of
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "InvoicePage",
    "get_credit",
    "get_invoice",
    "list_invoices",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class InvoicePage:
    invoices: list[Invoice]
    next_page_token: str


async def get_invoice(uow: BillingUnitOfWork, invoice_id: str) -> Invoice:
    invoice = await uow.invoices.get(invoice_id)
    if invoice is None:
        raise errors.NotFound(f"invoice {invoice_id!r} does not exist")
    return invoice


async def list_invoices(
    uow: BillingUnitOfWork,
    *,
    order_id: str,
    customer_id: str,
    status: InvoiceStatus | None,
    page_size: int,
    page_token: str,
) -> InvoicePage:
    if page_size < 0:
        raise errors.InvalidArgument(
            "invalid page size", {"page_size": f"must not be negative, got {page_size}"}
        )
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    before = _decode_token(page_token) if page_token else None
    found = await uow.invoices.list(
        order_id=order_id, customer_id=customer_id, status=status, before_id=before, limit=size + 1
    )
    page = found[:size]
    token = _encode_token(page[-1].id) if len(found) > size else ""
    return InvoicePage(page, token)


async def get_credit(uow: BillingUnitOfWork, policy: BillingPolicy, customer_id: str) -> Credit:
    if not customer_id:
        raise errors.InvalidArgument("customer_id is required", {"customer_id": "is required"})
    return await credit_of(uow, policy, customer_id)


def _encode_token(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _decode_token(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        last_id = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_id = ""
    if not is_uuid(last_id):
        raise errors.InvalidArgument(
            "invalid page token", {"page_token": "is not a token from a previous response"}
        )
    return last_id
