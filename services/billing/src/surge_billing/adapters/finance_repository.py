"""SQL for finance: the order ledger projection, reconciliation and aging reads, invoice export.

Everything here reads billing's own tables; the order side comes from `order_ledger`, which the
`billing-order-events` consumer keeps from the order service's OrderStatusChanged events.
Aggregation happens in PostgreSQL: a period of a million orders never crosses into Python as
payments or invoices, only as one row per order in scope (reconciliation) or per customer (aging).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.inbox import claim_cte
from surge_platform.raw import raw_execute

from surge_billing.adapters.repository import _INVOICE_COLUMNS, _invoice
from surge_billing.domain.invoices import Invoice, InvoiceStatus

__all__ = [
    "AgingBucketRow",
    "FinanceRepository",
    "LedgerEntry",
    "LedgerWrites",
    "OrderBooks",
    "claim_and_record",
]


@dataclass(frozen=True)
class LedgerEntry:
    order_id: str
    customer_id: str
    channel: str
    status: str
    total_minor: int | None
    currency: str | None
    payment_terms: str | None
    placed_at: datetime
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class OrderBooks:
    """One order in a reconciliation scope: what the ledger, its live invoice and its payments
    say as of the report's moment."""

    order_id: str
    customer_id: str
    order_status: str
    order_total_minor: int | None
    invoice_id: str
    invoice_number: str
    invoice_total_minor: int
    credited_minor: int
    invoice_settled: bool
    due_at: datetime | None
    paid_minor: int
    refunded_minor: int

    @property
    def invoiced_net_minor(self) -> int:
        """What the customer owes on the live invoice: its total less credit notes."""
        return self.invoice_total_minor - self.credited_minor

    @property
    def paid_net_minor(self) -> int:
        """What billing kept: payments less refunds."""
        return self.paid_minor - self.refunded_minor


@dataclass(frozen=True)
class AgingBucketRow:
    customer_id: str
    currency: str
    current_minor: int
    days_1_30_minor: int
    days_31_60_minor: int
    days_61_90_minor: int
    days_over_90_minor: int
    invoice_count: int


# The ledger row of each order, unless it already holds that version or a later one. At most one
# entry per order (a statement cannot update a row twice), in order id order so that concurrent
# batches lock rows in one order. Events without the finance fields keep what the row has.
_LEDGER_ROWS = """
    INSERT INTO order_ledger (order_id, customer_id, channel, status, total_minor, currency,
                              payment_terms, placed_at, version, updated_at)
    SELECT * FROM unnest(CAST(:order_id AS text[]), CAST(:customer_id AS text[]),
                         CAST(:channel AS text[]), CAST(:status AS text[]),
                         CAST(:total_minor AS bigint[]), CAST(:currency AS text[]),
                         CAST(:payment_terms AS text[]), CAST(:placed_at AS timestamptz[]),
                         CAST(:version AS bigint[]), CAST(:updated_at AS timestamptz[]))
"""
_LEDGER_CONFLICT = """
    ON CONFLICT (order_id) DO UPDATE SET
        status = excluded.status,
        total_minor = COALESCE(excluded.total_minor, order_ledger.total_minor),
        currency = COALESCE(excluded.currency, order_ledger.currency),
        payment_terms = COALESCE(excluded.payment_terms, order_ledger.payment_terms),
        version = excluded.version,
        updated_at = excluded.updated_at
    WHERE order_ledger.version < excluded.version
"""
_UPSERT_LEDGER_MANY = text(f"{_LEDGER_ROWS} ORDER BY 1 {_LEDGER_CONFLICT}")
# One event that arrived alone: its inbox claim and its upsert in one autocommit statement, so
# the claim and the effect still commit together, in one round trip instead of four (BEGIN,
# claim, upsert, COMMIT). A message claimed before changes nothing.
_CLAIM_AND_UPSERT_LEDGER = text(
    f"WITH {claim_cte('claimed')} "
    f"{_LEDGER_ROWS} WHERE EXISTS (SELECT 1 FROM claimed) {_LEDGER_CONFLICT}"
)
_LEDGER_FIELDS = tuple(LedgerEntry.__dataclass_fields__)

# Orders placed, invoiced, credited, paid or refunded in the period; for each, the invoice live at
# :as_of (at most one: a void precedes any re-issue) with its credit notes, and the payments and
# refunds made before :as_of.
_RECONCILE = text(
    """
    WITH scope AS (
        SELECT order_id FROM order_ledger
         WHERE placed_at >= :start AND placed_at < :end
           AND (currency IS NULL OR currency = :currency)
        UNION
        SELECT order_id FROM invoices
         WHERE issued_at >= :start AND issued_at < :end AND currency = :currency
        UNION
        SELECT order_id FROM credit_notes
         WHERE issued_at >= :start AND issued_at < :end AND currency = :currency
        UNION
        SELECT order_id FROM payments
         WHERE received_at >= :start AND received_at < :end AND currency = :currency
        UNION
        SELECT order_id FROM refunds
         WHERE refunded_at >= :start AND refunded_at < :end AND currency = :currency
    ),
    live AS (
        SELECT DISTINCT ON (i.order_id) i.order_id, i.id, i.number, i.customer_id, i.total_minor,
               i.due_at, (i.paid_at IS NOT NULL AND i.paid_at < :as_of) AS settled
          FROM invoices i JOIN scope s ON s.order_id = i.order_id
         WHERE i.issued_at < :as_of AND (i.voided_at IS NULL OR i.voided_at >= :as_of)
           AND i.currency = :currency
         ORDER BY i.order_id, i.issued_at DESC
    ),
    credited AS (
        SELECT c.invoice_id, sum(c.total_minor) AS credited_minor
          FROM credit_notes c JOIN live ON live.id = c.invoice_id
         WHERE c.issued_at < :as_of
         GROUP BY c.invoice_id
    ),
    paid AS (
        SELECT p.order_id, sum(p.amount_minor) AS paid_minor, min(p.customer_id) AS customer_id
          FROM payments p JOIN scope s ON s.order_id = p.order_id
         WHERE p.received_at < :as_of AND p.currency = :currency
         GROUP BY p.order_id
    ),
    refunded AS (
        SELECT r.order_id, sum(r.amount_minor) AS refunded_minor
          FROM refunds r JOIN scope s ON s.order_id = r.order_id
         WHERE r.refunded_at < :as_of AND r.currency = :currency
         GROUP BY r.order_id
    )
    SELECT s.order_id,
           COALESCE(l.customer_id, live.customer_id, paid.customer_id, '') AS customer_id,
           COALESCE(l.status, '') AS order_status,
           l.total_minor AS order_total_minor,
           COALESCE(live.id::text, '') AS invoice_id,
           COALESCE(live.number, '') AS invoice_number,
           COALESCE(live.total_minor, 0) AS invoice_total_minor,
           COALESCE(credited.credited_minor, 0) AS credited_minor,
           COALESCE(live.settled, false) AS invoice_settled,
           live.due_at,
           COALESCE(paid.paid_minor, 0) AS paid_minor,
           COALESCE(refunded.refunded_minor, 0) AS refunded_minor
      FROM scope s
      LEFT JOIN order_ledger l ON l.order_id = s.order_id
      LEFT JOIN live ON live.order_id = s.order_id
      LEFT JOIN credited ON credited.invoice_id = live.id
      LEFT JOIN paid ON paid.order_id = s.order_id
      LEFT JOIN refunded ON refunded.order_id = s.order_id
     ORDER BY s.order_id
    """
)

# Open = issued by :as_of, neither voided nor settled by then; what is open is the order's balance
# then: total - credited - paid + refunded. Days past due round up: one second late is one day late.
_AGING = text(
    """
    WITH open AS (
        SELECT i.customer_id, i.currency,
               greatest(i.total_minor - COALESCE(c.credited_minor, 0) - COALESCE(p.paid_minor, 0)
                        + COALESCE(r.refunded_minor, 0), 0) AS open_minor,
               ceil(extract(epoch FROM (CAST(:as_of AS timestamptz) - i.due_at)) / 86400)
                   AS days_late
          FROM invoices i
          LEFT JOIN LATERAL (
              SELECT sum(amount_minor) AS paid_minor FROM payments
               WHERE order_id = i.order_id AND received_at <= :as_of
          ) p ON true
          LEFT JOIN LATERAL (
              SELECT sum(total_minor) AS credited_minor FROM credit_notes
               WHERE invoice_id = i.id AND issued_at <= :as_of
          ) c ON true
          LEFT JOIN LATERAL (
              SELECT sum(amount_minor) AS refunded_minor FROM refunds
               WHERE order_id = i.order_id AND refunded_at <= :as_of
          ) r ON true
         WHERE i.issued_at <= :as_of
           AND (i.voided_at IS NULL OR i.voided_at > :as_of)
           AND (i.paid_at IS NULL OR i.paid_at > :as_of)
           AND (CAST(:customer_id AS text) = '' OR i.customer_id = :customer_id)
    )
    SELECT customer_id, currency,
           COALESCE(sum(open_minor) FILTER (WHERE days_late <= 0), 0) AS current_minor,
           COALESCE(sum(open_minor) FILTER (WHERE days_late BETWEEN 1 AND 30), 0)
               AS days_1_30_minor,
           COALESCE(sum(open_minor) FILTER (WHERE days_late BETWEEN 31 AND 60), 0)
               AS days_31_60_minor,
           COALESCE(sum(open_minor) FILTER (WHERE days_late BETWEEN 61 AND 90), 0)
               AS days_61_90_minor,
           COALESCE(sum(open_minor) FILTER (WHERE days_late > 90), 0) AS days_over_90_minor,
           count(*) AS invoice_count
      FROM open
     WHERE open_minor > 0
     GROUP BY customer_id, currency
     ORDER BY customer_id, currency
    """
)


class LedgerWrites:
    """Ledger upserts collected by a unit of work (`uow.deferred(LedgerWrites)`) and sent when it
    commits: in the consumer's group commit, one statement for the whole batch.

    The outcome is that of upserting each entry in arrival order: entries of one order go into
    successive statements (the first of each order, then the second...), each version-guarded.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._entries: list[LedgerEntry] = []

    def add(self, entry: LedgerEntry) -> None:
        self._entries.append(entry)

    async def flush(self) -> None:
        entries, self._entries = self._entries, []
        rounds: list[list[LedgerEntry]] = []
        seen: dict[str, int] = {}
        for entry in entries:
            n = seen.get(entry.order_id, 0)
            seen[entry.order_id] = n + 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(entry)
        for batch in rounds:
            params = {f: [getattr(e, f) for e in batch] for f in _LEDGER_FIELDS}
            await raw_execute(self._connection, _UPSERT_LEDGER_MANY, params)


async def claim_and_record(
    connection: AsyncConnection, consumer: str, message_id: str, entry: LedgerEntry
) -> None:
    """Claim `message_id` for `consumer` in the inbox and upsert `entry`, both or neither, with
    one statement. `connection` must not be in a transaction: the statement is its own."""
    params: dict[str, Any] = {f: [getattr(entry, f)] for f in _LEDGER_FIELDS}
    params |= {"consumer": consumer, "message_id": message_id}
    await raw_execute(connection, _CLAIM_AND_UPSERT_LEDGER, params)


class FinanceRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def order(self, order_id: str) -> LedgerEntry | None:
        row = (
            await self._connection.execute(
                text("SELECT * FROM order_ledger WHERE order_id = :id"), {"id": order_id}
            )
        ).first()
        return LedgerEntry(**row._asdict()) if row else None

    async def reconciliation(
        self, *, start: datetime, end: datetime, as_of: datetime, currency: str
    ) -> list[OrderBooks]:
        params = {"start": start, "end": end, "as_of": as_of, "currency": currency}
        rows = (await self._connection.execute(_RECONCILE, params)).all()
        return [_books(row) for row in rows]

    async def aging(self, *, as_of: datetime, customer_id: str = "") -> list[AgingBucketRow]:
        params = {"as_of": as_of, "customer_id": customer_id}
        rows = (await self._connection.execute(_AGING, params)).all()
        return [
            AgingBucketRow(
                customer_id=r.customer_id,
                currency=r.currency,
                current_minor=int(r.current_minor),
                days_1_30_minor=int(r.days_1_30_minor),
                days_31_60_minor=int(r.days_31_60_minor),
                days_61_90_minor=int(r.days_61_90_minor),
                days_over_90_minor=int(r.days_over_90_minor),
                invoice_count=int(r.invoice_count),
            )
            for r in rows
        ]

    async def invoices_after(
        self,
        *,
        after_id: str | None,
        status: InvoiceStatus | None,
        customer_id: str,
        issued_from: datetime | None,
        issued_to: datetime | None,
        limit: int,
    ) -> Sequence[Invoice]:
        """One export page in id (= issue) order; `after_id` is the last id of the page before."""
        where: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        if after_id is not None:
            where.append("id > CAST(:after_id AS uuid)")
            params["after_id"] = after_id
        if status is not None:
            where.append("status = :status")
            params["status"] = status.value
        if customer_id:
            where.append("customer_id = :customer_id")
            params["customer_id"] = customer_id
        if issued_from is not None:
            where.append("issued_at >= :issued_from")
            params["issued_from"] = issued_from
        if issued_to is not None:
            where.append("issued_at < :issued_to")
            params["issued_to"] = issued_to
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        query = text(f"SELECT {_INVOICE_COLUMNS} FROM invoices {clause}ORDER BY id LIMIT :limit")
        rows = (await self._connection.execute(query, params)).all()
        return [_invoice(row) for row in rows]


def _books(row: Any) -> OrderBooks:
    # sum() of bigint is numeric in PostgreSQL: back to int here, never a Decimal in money.
    return OrderBooks(
        order_id=row.order_id,
        customer_id=row.customer_id,
        order_status=row.order_status,
        order_total_minor=None if row.order_total_minor is None else int(row.order_total_minor),
        invoice_id=row.invoice_id,
        invoice_number=row.invoice_number,
        invoice_total_minor=int(row.invoice_total_minor),
        credited_minor=int(row.credited_minor),
        invoice_settled=bool(row.invoice_settled),
        due_at=row.due_at,
        paid_minor=int(row.paid_minor),
        refunded_minor=int(row.refunded_minor),
    )
