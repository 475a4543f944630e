"""Finance: keeping the order ledger, reconciling orders against invoices and payments, aging
receivables.

Billing owns the money, so it owns these reports. What it needs to know about orders (total,
terms, status, when placed) it learns from the order service's OrderStatusChanged events through
the inbox, so a report never calls another service and a redelivered event changes nothing.

Mismatch rules, judged per order as of the report's moment (`as_of`):
(invoiced = live invoice total - credit notes; paid = payments - refunds)
- UNPAID_PAST_DUE: less was paid than invoiced and the due date has passed (billing stores
  `due_at = issued_at` for PREPAID, so a prepaid invoice is late as soon as it is unpaid);
- ORDER_INVOICE_AMOUNT: the order's total differs from its live invoice's (gross) total;
- PAYMENT_AMOUNT: more was paid than invoiced (a refund is owed), or the invoice was settled for
  less (a partial payment on an invoice not yet due is normal, not a mismatch);
- PAID_NOT_INVOICED: money was received, no invoice is live, and the saga is not still on its
  way to invoicing;
- ORDER_NOT_INVOICED: the order got past invoicing (awaiting shipment or later) without a live
  invoice and nothing was paid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2

from surge_billing.adapters.finance_repository import (
    AgingBucketRow,
    LedgerEntry,
    LedgerWrites,
    OrderBooks,
)
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = [
    "Mismatch",
    "MismatchKind",
    "Reconciliation",
    "aging",
    "classify",
    "ledger_entry",
    "reconcile",
    "record_order_status",
]

# Statuses in which the saga has not reached the invoice step yet: no invoice is expected.
_BEFORE_INVOICE = frozenset({"pending_payment", "paid", "pending_review", "reserving"})
# Statuses the saga only reaches after the invoice was issued.
_AFTER_INVOICE = frozenset(
    {
        "awaiting_shipment",
        "shipped",
        "delivered",
        "completed",
        "refund_requested",
        "partially_refunded",
        "refunded",
    }
)


class MismatchKind(enum.Enum):
    UNPAID_PAST_DUE = "unpaid_past_due"
    PAID_NOT_INVOICED = "paid_not_invoiced"
    ORDER_INVOICE_AMOUNT = "order_invoice_amount"
    PAYMENT_AMOUNT = "payment_amount"
    ORDER_NOT_INVOICED = "order_not_invoiced"


@dataclass(frozen=True)
class Mismatch:
    kind: MismatchKind
    books: OrderBooks
    detail: str


@dataclass(frozen=True)
class Reconciliation:
    currency: str
    books: list[OrderBooks]
    mismatches: list[Mismatch]

    @property
    def ordered_minor(self) -> int:
        return sum(b.order_total_minor or 0 for b in self.books)

    @property
    def invoiced_minor(self) -> int:
        return sum(b.invoiced_net_minor for b in self.books)

    @property
    def paid_minor(self) -> int:
        return sum(b.paid_net_minor for b in self.books)


def ledger_entry(event: order_pb2.OrderStatusChanged) -> LedgerEntry:
    """The ledger row an OrderStatusChanged describes. Events from before the finance fields
    existed carry no total: the row keeps what it had (or none, and amounts are not compared)."""
    occurred = event.occurred_at.ToDatetime(tzinfo=UTC)
    has_total = event.HasField("total") and bool(event.total.currency)
    terms = event.payment_terms
    return LedgerEntry(
        order_id=event.order_id,
        customer_id=event.customer_id,
        channel=event.channel,
        status=_status_name(event.to_status),
        total_minor=event.total.amount_minor if has_total else None,
        currency=event.total.currency if has_total else None,
        payment_terms=(
            common_pb2.PaymentTerms.Name(terms).removeprefix("PAYMENT_TERMS_")
            if terms != common_pb2.PAYMENT_TERMS_UNSPECIFIED
            else None
        ),
        placed_at=event.placed_at.ToDatetime(tzinfo=UTC)
        if event.HasField("placed_at")
        else occurred,
        version=event.version,
        updated_at=occurred,
    )


async def record_order_status(event: order_pb2.OrderStatusChanged, uow: BillingUnitOfWork) -> None:
    """Consumer handler (through `idempotent()`, which opened `uow` and claimed the message).

    The upsert is deferred to the commit: in the consumer's group commit one statement writes
    the whole batch's entries (every OrderStatusChanged lands here, so it is a hot path)."""
    uow.deferred(LedgerWrites).add(ledger_entry(event))
    await uow.commit()


def classify(books: OrderBooks, as_of: datetime) -> list[Mismatch]:
    """Every mismatch of one order (pure; `books` is already as of `as_of`)."""
    invoiced, paid = books.invoiced_net_minor, books.paid_net_minor
    if books.invoice_id:
        found: list[Mismatch] = []
        total = books.order_total_minor
        # Against the gross invoice: a credit note after a return legitimately lowers what is owed.
        if total is not None and total != books.invoice_total_minor:
            found.append(
                Mismatch(
                    MismatchKind.ORDER_INVOICE_AMOUNT,
                    books,
                    f"order total {total} != invoice total {books.invoice_total_minor}",
                )
            )
        if paid > invoiced or (paid < invoiced and books.invoice_settled):
            found.append(
                Mismatch(MismatchKind.PAYMENT_AMOUNT, books, f"paid {paid} != invoiced {invoiced}")
            )
        elif paid < invoiced and books.due_at is not None and books.due_at < as_of:
            found.append(
                Mismatch(
                    MismatchKind.UNPAID_PAST_DUE,
                    books,
                    f"paid {paid} of {invoiced}, due {books.due_at.isoformat()}",
                )
            )
        return found
    if paid > 0 and books.order_status not in _BEFORE_INVOICE:
        return [Mismatch(MismatchKind.PAID_NOT_INVOICED, books, f"paid {paid}, no live invoice")]
    if paid == 0 and books.order_status in _AFTER_INVOICE:
        detail = f"order is {books.order_status}, no live invoice"
        return [Mismatch(MismatchKind.ORDER_NOT_INVOICED, books, detail)]
    return []


async def reconcile(
    uow: BillingUnitOfWork, *, start: datetime, end: datetime, as_of: datetime, currency: str
) -> Reconciliation:
    async with uow:
        books = await uow.ledger.reconciliation(
            start=start, end=end, as_of=as_of, currency=currency
        )
    mismatches = [m for b in books for m in classify(b, as_of)]
    return Reconciliation(currency=currency, books=books, mismatches=mismatches)


async def aging(
    uow: BillingUnitOfWork, *, as_of: datetime, customer_id: str = ""
) -> list[AgingBucketRow]:
    async with uow:
        return await uow.ledger.aging(as_of=as_of, customer_id=customer_id)


def _status_name(value: int) -> str:
    return order_pb2.OrderStatus.Name(value).removeprefix("ORDER_STATUS_").lower()
