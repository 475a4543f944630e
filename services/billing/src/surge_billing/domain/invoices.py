"""Invoice arithmetic: lines, VAT included in prices, totals, and invoice numbers.

Prices are tax-inclusive (Chinese retail practice): a line's amount is what the customer pays
for it, `quantity * unit_price - discount`, and the VAT inside it is
`round_half_up(amount * rate / (100 + rate))`. Totals are sums of line values, so they add up
exactly: `subtotal` (net of tax) + `tax` = `total` = sum of the line amounts.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "MAX_QUANTITY",
    "InvalidInvoice",
    "Invoice",
    "InvoiceStatus",
    "LineDraft",
    "Payment",
    "PaymentTerms",
    "PricedInvoice",
    "PricedLine",
    "invoice_number",
    "price_invoice",
    "tax_included",
]

MAX_QUANTITY = 1_000_000


class InvoiceStatus(enum.StrEnum):
    ISSUED = "ISSUED"
    PAID = "PAID"
    VOID = "VOID"


class PaymentTerms(enum.StrEnum):
    PREPAID = "PREPAID"
    ON_ACCOUNT = "ON_ACCOUNT"


class InvalidInvoice(ValueError):
    """An invoice that can never be issued as asked; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LineDraft:
    """One line as the order service sent it; `amount_minor` is None when it sent none."""

    sku: str
    description: str
    quantity: int
    unit_price_minor: int
    discount_minor: int = 0
    amount_minor: int | None = None


@dataclass(frozen=True)
class PricedLine:
    sku: str
    description: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    tax_minor: int
    amount_minor: int

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.tax_minor


@dataclass(frozen=True)
class PricedInvoice:
    lines: tuple[PricedLine, ...]
    subtotal_minor: int
    tax_minor: int
    discount_minor: int
    total_minor: int


def tax_included(amount_minor: int, rate_percent: int) -> int:
    """The VAT inside a tax-inclusive amount, rounded half up to a whole minor unit."""
    if amount_minor < 0:
        raise ValueError("amount must not be negative")
    if not 0 <= rate_percent <= 100:
        raise ValueError("rate must be within 0..100 percent")
    divisor = 100 + rate_percent
    # Integer round-half-up of amount * rate / divisor: no floats anywhere near money.
    return (2 * amount_minor * rate_percent + divisor) // (2 * divisor)


def price_invoice(
    drafts: Sequence[LineDraft], rate_percent: int, declared_total_minor: int | None = None
) -> PricedInvoice:
    """Check the lines, split out the tax and add up; raises `InvalidInvoice`."""
    if not drafts:
        raise InvalidInvoice("an invoice needs at least one line")
    lines: list[PricedLine] = []
    for index, draft in enumerate(drafts):
        where = f"line {index + 1} ({draft.sku or 'no SKU'})"
        if not draft.sku:
            raise InvalidInvoice(f"{where}: SKU is required")
        if not 0 < draft.quantity <= MAX_QUANTITY:
            raise InvalidInvoice(f"{where}: quantity must be within 1..{MAX_QUANTITY}")
        if draft.unit_price_minor < 0:
            raise InvalidInvoice(f"{where}: unit price must not be negative")
        gross = draft.quantity * draft.unit_price_minor
        if not 0 <= draft.discount_minor <= gross:
            raise InvalidInvoice(f"{where}: discount must be within 0..{gross}")
        amount = gross - draft.discount_minor
        if draft.amount_minor is not None and draft.amount_minor != amount:
            raise InvalidInvoice(
                f"{where}: amount {draft.amount_minor} is not quantity * unit price - discount"
                f" = {amount}"
            )
        lines.append(
            PricedLine(
                sku=draft.sku,
                description=draft.description,
                quantity=draft.quantity,
                unit_price_minor=draft.unit_price_minor,
                discount_minor=draft.discount_minor,
                tax_minor=tax_included(amount, rate_percent),
                amount_minor=amount,
            )
        )
    total = sum(line.amount_minor for line in lines)
    if declared_total_minor is not None and declared_total_minor != total:
        raise InvalidInvoice(
            f"the lines add up to {total}, not to the order total {declared_total_minor}"
        )
    return PricedInvoice(
        lines=tuple(lines),
        subtotal_minor=sum(line.net_minor for line in lines),
        tax_minor=sum(line.tax_minor for line in lines),
        discount_minor=sum(line.discount_minor for line in lines),
        total_minor=total,
    )


def invoice_number(year: int, seq: int) -> str:
    """`INV-2026-000001`: the year's sequence number, zero-padded to at least six digits."""
    if not 1 <= year <= 9999:
        raise ValueError(f"year out of range: {year}")
    if seq < 1:
        raise ValueError(f"invoice sequence numbers start at 1, got {seq}")
    return f"INV-{year:04d}-{seq:06d}"


@dataclass(frozen=True)
class Invoice:
    """An issued invoice as stored; money in minor units of `currency`."""

    id: str
    number: str
    saga_id: str
    order_id: str
    customer_id: str
    status: InvoiceStatus
    payment_terms: PaymentTerms
    currency: str
    lines: tuple[PricedLine, ...]
    subtotal_minor: int
    tax_minor: int
    discount_minor: int
    total_minor: int
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    void_reason: str = ""

    @property
    def live(self) -> bool:
        return self.status is not InvoiceStatus.VOID


@dataclass(frozen=True)
class Payment:
    """Money received for an order. `source_id` is the order service's payment id, if any."""

    id: str
    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    method: str
    reference: str
    received_at: datetime
    source_id: str | None = None
