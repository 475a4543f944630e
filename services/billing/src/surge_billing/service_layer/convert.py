"""Translation between the protobuf contracts and the billing domain."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2

from surge_billing.domain.credit import Credit
from surge_billing.domain.invoices import (
    InvalidInvoice,
    Invoice,
    InvoiceStatus,
    LineDraft,
    Payment,
    PaymentTerms,
)

__all__ = [
    "CURRENCY",
    "InvoiceRequest",
    "credit_to_proto",
    "invoice_request",
    "invoice_to_proto",
    "money",
    "payment_to_proto",
    "status_from_proto",
    "timestamp",
]

CURRENCY = re.compile(r"^[A-Z]{3}$")

_TERMS = {
    common_pb2.PAYMENT_TERMS_PREPAID: PaymentTerms.PREPAID,
    common_pb2.PAYMENT_TERMS_ON_ACCOUNT: PaymentTerms.ON_ACCOUNT,
}
_TERMS_PB = {terms: value for value, terms in _TERMS.items()}
_STATUS_PB = {
    InvoiceStatus.ISSUED: billing_pb2.INVOICE_STATUS_ISSUED,
    InvoiceStatus.PAID: billing_pb2.INVOICE_STATUS_PAID,
    InvoiceStatus.VOID: billing_pb2.INVOICE_STATUS_VOID,
}
_STATUS = {value: status for status, value in _STATUS_PB.items()}


@dataclass(frozen=True)
class InvoiceRequest:
    """An IssueInvoiceCommand checked for shape: one currency, known terms, a customer."""

    currency: str
    terms: PaymentTerms
    lines: tuple[LineDraft, ...]
    declared_total_minor: int | None


def invoice_request(cmd: billing_pb2.IssueInvoiceCommand) -> InvoiceRequest:
    """Raises `InvalidInvoice` for a command no invoice can be issued from."""
    if not cmd.order_id:
        raise InvalidInvoice("order_id is required")
    if not cmd.customer_id:
        raise InvalidInvoice("customer_id is required")
    terms = _TERMS.get(cmd.payment_terms)
    if terms is None:
        raise InvalidInvoice("payment_terms must be PREPAID or ON_ACCOUNT")
    currencies = set(_currencies(cmd))
    if len(currencies) != 1:
        found = ", ".join(sorted(currencies)) or "none"
        raise InvalidInvoice(f"an invoice needs exactly one currency, found: {found}")
    currency = currencies.pop()
    if not CURRENCY.match(currency):
        raise InvalidInvoice(f"currency {currency!r} is not an ISO 4217 code")
    lines = tuple(
        LineDraft(
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price_minor=line.unit_price.amount_minor,
            discount_minor=line.discount.amount_minor,
            amount_minor=line.amount.amount_minor if line.HasField("amount") else None,
        )
        for line in cmd.lines
    )
    total = cmd.total.amount_minor if cmd.HasField("total") else None
    return InvoiceRequest(currency, terms, lines, total)


def _currencies(cmd: billing_pb2.IssueInvoiceCommand) -> Iterable[str]:
    if cmd.total.currency:
        yield cmd.total.currency
    for line in cmd.lines:
        for amount in (line.unit_price, line.discount, line.amount):
            if amount.currency:
                yield amount.currency


def status_from_proto(value: int) -> InvoiceStatus | None:
    """None for UNSPECIFIED (no filter); raises KeyError for a value we do not know."""
    if value == billing_pb2.INVOICE_STATUS_UNSPECIFIED:
        return None
    return _STATUS[value]  # type: ignore[index]


def money(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency=currency)


def timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def invoice_to_proto(invoice: Invoice) -> billing_pb2.Invoice:
    c = invoice.currency
    message = billing_pb2.Invoice(
        id=invoice.id,
        number=invoice.number,
        order_id=invoice.order_id,
        customer_id=invoice.customer_id,
        status=_STATUS_PB[invoice.status],
        payment_terms=_TERMS_PB[invoice.payment_terms],
        lines=[
            billing_pb2.InvoiceLine(
                sku=line.sku,
                description=line.description,
                quantity=line.quantity,
                unit_price=money(line.unit_price_minor, c),
                discount=money(line.discount_minor, c),
                tax=money(line.tax_minor, c),
                amount=money(line.amount_minor, c),
            )
            for line in invoice.lines
        ],
        subtotal=money(invoice.subtotal_minor, c),
        tax=money(invoice.tax_minor, c),
        total=money(invoice.total_minor, c),
        discount_total=money(invoice.discount_minor, c),
        issued_at=timestamp(invoice.issued_at),
        due_at=timestamp(invoice.due_at),
        void_reason=invoice.void_reason,
    )
    if invoice.voided_at is not None:
        message.voided_at.CopyFrom(timestamp(invoice.voided_at))
    if invoice.paid_at is not None:
        message.paid_at.CopyFrom(timestamp(invoice.paid_at))
    return message


def payment_to_proto(payment: Payment) -> billing_pb2.Payment:
    return billing_pb2.Payment(
        id=payment.id,
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        amount=money(payment.amount_minor, payment.currency),
        method=payment.method,
        reference=payment.reference,
        received_at=timestamp(payment.received_at),
    )


def credit_to_proto(credit: Credit) -> billing_pb2.Credit:
    return billing_pb2.Credit(
        customer_id=credit.customer_id,
        limit=money(credit.limit_minor, credit.currency),
        used=money(credit.used_minor, credit.currency),
        available=money(credit.available_minor, credit.currency),
    )
