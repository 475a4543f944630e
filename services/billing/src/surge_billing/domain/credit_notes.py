"""Credit notes (红字发票), refunds and an order's balance: the arithmetic and the rules.

A credit note reverses part of an order's live invoice: it never credits more than the invoice
total less what earlier credit notes took. The refund that goes with it is the money paid beyond
what the customer owes after the credit, capped at the credit note; an unpaid on-account order
gets a credit note (it owes less) but no refund. So for every order, at every moment:

    balance = invoiced - credited - paid + refunded

is what the customer still owes (0 for a settled prepaid order, before and after any return).
A refund only ever pays back money received beyond what is owed, so it never exceeds what was
paid less what was already refunded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "Balance",
    "CreditNote",
    "CreditNoteLine",
    "CreditRefused",
    "Refund",
    "cancellation_source",
    "credit_note_number",
    "refund_for_credit",
    "return_source",
]


class CreditRefused(Exception):
    """A credit note or refund that must not happen; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CreditNoteLine:
    sku: str
    quantity: int
    amount_minor: int


@dataclass(frozen=True)
class CreditNote:
    id: str
    number: str
    invoice_id: str
    invoice_number: str
    order_id: str
    customer_id: str
    return_id: str
    reason: str
    currency: str
    lines: tuple[CreditNoteLine, ...]
    total_minor: int
    issued_at: datetime


@dataclass(frozen=True)
class Refund:
    id: str
    source_id: str
    order_id: str
    customer_id: str
    amount_minor: int
    currency: str
    reason: str
    refunded_at: datetime
    credit_note_id: str | None = None


@dataclass(frozen=True)
class Balance:
    order_id: str
    currency: str
    invoiced_minor: int
    credited_minor: int
    paid_minor: int
    refunded_minor: int

    @property
    def balance_minor(self) -> int:
        return self.invoiced_minor - self.credited_minor - self.paid_minor + self.refunded_minor


def credit_note_number(year: int, seq: int) -> str:
    """`CN-2026-000001`: the year's sequence, zero-padded to at least six digits."""
    if not 1 <= year <= 9999:
        raise ValueError(f"year out of range: {year}")
    if seq < 1:
        raise ValueError(f"credit note sequence numbers start at 1, got {seq}")
    return f"CN-{year:04d}-{seq:06d}"


def return_source(return_id: str) -> str:
    return f"return:{return_id}"


def cancellation_source(order_id: str) -> str:
    return f"cancel:{order_id}"


def refund_for_credit(
    *, total_minor: int, invoice_total_minor: int, credited_minor: int, balance: Balance
) -> int:
    """The refund that goes with a new credit note of `total_minor`; raises `CreditRefused`.

    `credited_minor` is what earlier credit notes of the invoice already took. Only money paid
    beyond what the customer owes after this credit goes back: a fully paid order gets the whole
    credit refunded, an unpaid on-account order nothing (it simply owes less).
    """
    if total_minor <= 0:
        raise CreditRefused("a credit note must credit a positive amount")
    left = invoice_total_minor - credited_minor
    if total_minor > left:
        raise CreditRefused(
            f"credit of {total_minor} exceeds what is left to credit on the invoice ({left})"
        )
    owed_after = balance.invoiced_minor - balance.credited_minor - total_minor
    overpaid = balance.paid_minor - balance.refunded_minor - owed_after
    return max(0, min(total_minor, overpaid))
