"""SQLAlchemy Core queries for invoices (no ORM on hot paths); payments and credit limits are
in `accounts.py`.

Concurrency rules live here, next to the SQL that relies on them:
- the invoice counter row of a year is bumped (an upsert: `... ON CONFLICT (year) DO UPDATE
  SET last = last + 1 RETURNING last`, so the row is created on first use) in the issuing
  transaction, in the same statement as the invoice INSERT; its row lock serialises numbering
  until commit and a rollback returns the number, so numbers are gapless;
- `lock_order` (two-key advisory lock, namespace 1) serialises everything that changes one
  order's invoice or payments, so a payment and an issue cannot miss each other;
- `lock_customer` (single-key advisory lock on hashtext(customer_id)) serialises credit checks,
  so two invoices cannot both squeeze under one limit. Lock order: order, then customer.
- Issuing an on-account invoice takes both in one statement (`lock_order(then_customer=...)`)
  and reads the order's context and the customer's credit in one (`issue_context(credit=...)`).
- In a group commit, `chunk.lock_chunk` takes every such lock the chunk's commands need up front, in
  that order and sorted. Handlers then re-take locks they already hold (advisory locks stack).
  Otherwise two chunks deadlock: A holds customer c1 and the counter row and wants c2, which B
  holds while it waits for the counter row. The handlers of that chunk then skip those locks,
  and answer their reads from what `chunk.read_chunk` read under them (see `read_ahead.py`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from surge_platform.db import raw_execute, raw_fetch, raw_fetchrow

from surge_billing.adapters.accounts import CREDIT_SQL, CreditQuery
from surge_billing.adapters.numbering import InvoiceReader, lines_json
from surge_billing.adapters.paging import newest_first
from surge_billing.adapters.read_ahead import read_ahead_of
from surge_billing.domain.credit import Credit
from surge_billing.domain.invoices import (
    Invoice,
    InvoiceStatus,
    PaymentTerms,
    PricedLine,
)

__all__ = ["ORDER_LOCK_NAMESPACE", "InvoiceRepository", "IssueContext", "is_uuid"]

ORDER_LOCK_NAMESPACE = 1

_INVOICE_COLUMNS = (
    "id, number, saga_id, order_id, customer_id, status, payment_terms, currency, lines, "
    "subtotal_minor, tax_minor, discount_minor, total_minor, issued_at, due_at, paid_at, "
    "voided_at, void_reason"
)

_LOCK_ORDER = text(f"SELECT pg_advisory_xact_lock({ORDER_LOCK_NAMESPACE}, hashtext(:order_id))")
_LOCK_CUSTOMER = text("SELECT pg_advisory_xact_lock(hashtext(:customer_id))")
# Both, in the lock order (the customer's lock is taken once the order's is held).
_LOCK_ORDER_AND_CUSTOMER = text(
    f"WITH o AS (SELECT pg_advisory_xact_lock({ORDER_LOCK_NAMESPACE}, hashtext(:order_id))) "
    "SELECT pg_advisory_xact_lock(hashtext(:customer_id)) FROM o"
)
# Take the year's next number and insert the invoice in one statement, so the counter row (whose
# lock serialises every issue of the year until commit) is held for as few round trips as
# possible. The upsert creates the year's row on first use; a rollback gives the number back.
# The number is formatted as domain.invoices.invoice_number does; the handler checks they agree.
_INSERT_NUMBERED = text(
    "WITH n AS (INSERT INTO invoice_counters AS c (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = c.last + 1 RETURNING c.last) "
    f"INSERT INTO invoices ({_INVOICE_COLUMNS}, year, seq) VALUES (:id, "
    "'INV-' || lpad(CAST(:year AS text), 4, '0') || '-' || "
    "lpad(CAST((SELECT last FROM n) AS text), "
    "greatest(6, length(CAST((SELECT last FROM n) AS text))), '0'), "
    ":saga_id, :order_id, :customer_id, :status, :payment_terms, :currency, "
    "CAST(:lines AS jsonb), :subtotal_minor, :tax_minor, :discount_minor, :total_minor, "
    ":issued_at, :due_at, :paid_at, :voided_at, :void_reason, :year, (SELECT last FROM n)) "
    "RETURNING seq, number"
)
_LIVE_FOR_ORDER = text(
    f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE order_id = :order_id AND status <> 'VOID'"
)
_CURRENT_FOR_ISSUE = text(
    f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE order_id = :order_id "
    "AND (status <> 'VOID' OR saga_id = :saga_id) ORDER BY status <> 'VOID' DESC, id DESC LIMIT 1"
)
_ISSUE_CONTEXT_SQL = (
    "SELECT s.cancelled, s.paid_minor, i.* FROM (SELECT "
    "EXISTS (SELECT 1 FROM invoice_cancellations "
    "        WHERE order_id = :order_id AND saga_id = :saga_id) AS cancelled, "
    "(SELECT coalesce(sum(amount_minor), 0) FROM payments "
    " WHERE order_id = :order_id AND currency = :currency) AS paid_minor) AS s "
    f"LEFT JOIN LATERAL (SELECT {_INVOICE_COLUMNS} FROM invoices WHERE order_id = :order_id "
    "AND (status <> 'VOID' OR saga_id = :saga_id) ORDER BY status <> 'VOID' DESC, id DESC "
    "LIMIT 1) AS i ON true"
)
_ISSUE_CONTEXT = text(_ISSUE_CONTEXT_SQL)
# The same and the customer's credit (accounts.CREDIT_SQL), for an on-account invoice.
_ISSUE_CONTEXT_AND_CREDIT = text(
    "SELECT c.*, k.limit_minor AS credit_limit_minor, k.currency AS credit_currency, "
    f"k.used_minor AS credit_used_minor FROM ({_ISSUE_CONTEXT_SQL}) AS c "
    f"CROSS JOIN ({CREDIT_SQL}) AS k"
)
# The same for many (order, saga, currency) keys at once (a group commit's read-ahead).
_ISSUE_CONTEXTS = text(
    "SELECT k.key_order, k.key_saga, k.key_currency, "
    "EXISTS (SELECT 1 FROM invoice_cancellations c "
    "        WHERE c.order_id = k.key_order AND c.saga_id = k.key_saga) AS cancelled, "
    "(SELECT coalesce(sum(p.amount_minor), 0) FROM payments p "
    " WHERE p.order_id = k.key_order AND p.currency = k.key_currency) AS paid_minor, i.* "
    "FROM unnest(CAST(:orders AS text[]), CAST(:sagas AS text[]), CAST(:currencies AS text[])) "
    "AS k(key_order, key_saga, key_currency) "
    f"LEFT JOIN LATERAL (SELECT {_INVOICE_COLUMNS} FROM invoices "
    "WHERE order_id = k.key_order AND (status <> 'VOID' OR saga_id = k.key_saga) "
    "ORDER BY status <> 'VOID' DESC, id DESC LIMIT 1) AS i ON true"
)
_LATEST_VOID_FOR_ORDER = text(
    f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE order_id = :order_id AND status = 'VOID' "
    "ORDER BY id DESC LIMIT 1"
)
_GET = text(f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE id = CAST(:id AS uuid)")
_VOID = text(
    "UPDATE invoices SET status = 'VOID', voided_at = :at, void_reason = :reason, paid_at = NULL "
    "WHERE id = CAST(:id AS uuid) AND status <> 'VOID'"
)
_MARK_PAID = text(
    "UPDATE invoices SET status = 'PAID', paid_at = :at "
    "WHERE id = CAST(:id AS uuid) AND status = 'ISSUED'"
)
_CANCEL = text(
    "INSERT INTO invoice_cancellations (order_id, saga_id, reason) "
    "VALUES (:order_id, :saga_id, :reason) ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class IssueContext:
    """`existing`: the order's live invoice, else the (voided) one this saga issued, else None;
    `cancelled`: this saga's invoice step was already compensated; `paid_minor`: payments
    received for the order in the invoice's currency."""

    existing: Invoice | None
    cancelled: bool
    paid_minor: int
    # The customer's credit, when it was asked for and read with the context (else None).
    credit: Credit | None = None


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class InvoiceRepository(InvoiceReader):
    """`writes`: the unit of work's `deferred(InvoiceWrites)`, used by `add_numbered` in a group
    commit that announced its invoices (see numbering.py); every read of invoices sends the
    pending ones first."""

    async def lock_order(self, order_id: str, *, then_customer: str | None = None) -> None:
        """Serialise issue, void and payments of one order until the transaction ends; with
        `then_customer`, then also that customer's credit checks (as `lock_customer`), in the
        same round trip."""
        held = read_ahead_of(self._connection)
        order = held is None or order_id not in held.orders
        customer = then_customer is not None and (
            held is None or then_customer not in held.customers
        )
        if order and customer:
            params = {"order_id": order_id, "customer_id": then_customer}
            await raw_execute(self._connection, _LOCK_ORDER_AND_CUSTOMER, params)
        elif order:
            await raw_execute(self._connection, _LOCK_ORDER, {"order_id": order_id})
        elif customer:
            await raw_execute(self._connection, _LOCK_CUSTOMER, {"customer_id": then_customer})

    async def lock_customer(self, customer_id: str) -> None:
        """Serialise credit checks of one customer until the transaction ends."""
        held = read_ahead_of(self._connection)
        if held is not None and customer_id in held.customers:
            return
        await raw_execute(self._connection, _LOCK_CUSTOMER, {"customer_id": customer_id})

    async def add_numbered(self, invoice: Invoice, *, year: int) -> tuple[int, str]:
        """Insert `invoice` under the year's next number; returns (sequence, number).

        `invoice.number` is ignored: the number exists only once the counter row is locked.
        Call this last in the transaction (then only the outbox and COMMIT follow), because
        the counter row stays locked until commit and every issue of the year waits for it.
        """
        held = read_ahead_of(self._connection)
        if held is not None:
            held.forget_order(invoice.order_id)
            held.forget_customer(invoice.customer_id)
            if held.invoices_expected and self._writes is not None:
                return await self._writes().add(invoice, year, held.invoices_expected)
        row = await raw_fetchrow(
            self._connection,
            _INSERT_NUMBERED,
            {
                "id": invoice.id,
                "saga_id": invoice.saga_id,
                "order_id": invoice.order_id,
                "customer_id": invoice.customer_id,
                "status": invoice.status.value,
                "payment_terms": invoice.payment_terms.value,
                "currency": invoice.currency,
                "lines": lines_json(invoice),
                "subtotal_minor": invoice.subtotal_minor,
                "tax_minor": invoice.tax_minor,
                "discount_minor": invoice.discount_minor,
                "total_minor": invoice.total_minor,
                "issued_at": invoice.issued_at,
                "due_at": invoice.due_at,
                "paid_at": invoice.paid_at,
                "voided_at": invoice.voided_at,
                "void_reason": invoice.void_reason,
                "year": year,
            },
        )
        assert row is not None  # INSERT … RETURNING of one row
        return int(row.seq), str(row.number)

    async def get(self, invoice_id: str) -> Invoice | None:
        if not is_uuid(invoice_id):
            return None
        await self._settle()
        row = (await self._connection.execute(_GET, {"id": invoice_id})).first()
        return _invoice(row) if row else None

    async def live_for_order(self, order_id: str) -> Invoice | None:
        await self._settle()
        row = (await self._connection.execute(_LIVE_FOR_ORDER, {"order_id": order_id})).first()
        return _invoice(row) if row else None

    async def current_for_issue(self, order_id: str, saga_id: str) -> Invoice | None:
        """The order's live invoice, else the (voided) invoice this saga issued, else None."""
        await self._settle()
        params = {"order_id": order_id, "saga_id": saga_id}
        row = (await self._connection.execute(_CURRENT_FOR_ISSUE, params)).first()
        return _invoice(row) if row else None

    async def issue_context(
        self, order_id: str, saga_id: str, currency: str, *, credit: CreditQuery | None = None
    ) -> IssueContext:
        """What issuing needs to know about the order, in one round trip (see IssueContext);
        with `credit`, the customer's credit too (as `CreditRepository.credit` reads it), unless
        a group commit read the context ahead (then `IssueContext.credit` is None)."""
        held = read_ahead_of(self._connection)
        if held is not None:
            known = held.contexts.get((order_id, saga_id, currency))
            if known is not None:
                return known
        await self._settle()
        params: dict[str, Any] = {"order_id": order_id, "saga_id": saga_id, "currency": currency}
        if credit is None:
            row = await raw_fetchrow(self._connection, _ISSUE_CONTEXT, params)
        else:
            customer_id, default_limit, default_currency = credit
            params |= {
                "customer_id": customer_id,
                "default_limit": default_limit,
                "default_currency": default_currency,
            }
            row = await raw_fetchrow(self._connection, _ISSUE_CONTEXT_AND_CREDIT, params)
        assert row is not None  # the statement always returns one row
        return IssueContext(
            existing=_invoice(row) if row.id is not None else None,
            cancelled=bool(row.cancelled),
            paid_minor=int(row.paid_minor),
            credit=None
            if credit is None
            else Credit(
                credit[0],
                int(row.credit_limit_minor),
                int(row.credit_used_minor),
                str(row.credit_currency),
            ),
        )

    async def issue_contexts(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], IssueContext]:
        """`issue_context` of many (order id, saga id, currency) keys with one statement."""
        await self._settle()
        params = {
            "orders": [k[0] for k in keys],
            "sagas": [k[1] for k in keys],
            "currencies": [k[2] for k in keys],
        }
        rows = await raw_fetch(self._connection, _ISSUE_CONTEXTS, params)
        return {
            (row.key_order, row.key_saga, row.key_currency): IssueContext(
                existing=_invoice(row) if row.id is not None else None,
                cancelled=bool(row.cancelled),
                paid_minor=int(row.paid_minor),
            )
            for row in rows
        }

    async def latest_void_for_order(self, order_id: str) -> Invoice | None:
        await self._settle()
        params = {"order_id": order_id}
        row = (await self._connection.execute(_LATEST_VOID_FOR_ORDER, params)).first()
        return _invoice(row) if row else None

    async def void(self, invoice_id: str, reason: str, at: datetime) -> bool:
        self._forget_all()
        await self._settle()
        result = await self._connection.execute(
            _VOID, {"id": invoice_id, "reason": reason, "at": at}
        )
        return result.rowcount == 1

    async def mark_paid(self, invoice_id: str, at: datetime) -> bool:
        self._forget_all()
        await self._settle()
        result = await self._connection.execute(_MARK_PAID, {"id": invoice_id, "at": at})
        return result.rowcount == 1

    async def record_cancellation(self, order_id: str, saga_id: str, reason: str) -> None:
        held = read_ahead_of(self._connection)
        if held is not None:
            held.forget_order(order_id)
        await self._connection.execute(
            _CANCEL, {"order_id": order_id, "saga_id": saga_id, "reason": reason}
        )

    def _forget_all(self) -> None:
        held = read_ahead_of(self._connection)
        if held is not None:
            held.forget_all()

    async def list(
        self,
        *,
        order_id: str = "",
        customer_id: str = "",
        status: InvoiceStatus | None = None,
        before_id: str | None = None,
        limit: int,
    ) -> list[Invoice]:
        """Newest first (ids are UUIDv7, so id order is issue order); `before_id` pages on."""
        await self._settle()
        query, params = newest_first(
            _INVOICE_COLUMNS,
            "invoices",
            {
                "order_id": order_id,
                "customer_id": customer_id,
                "status": status.value if status is not None else None,
            },
            before_id=before_id,
            limit=limit,
        )
        rows = (await self._connection.execute(query, params)).all()
        return [_invoice(row) for row in rows]


def _lines(raw: str | Sequence[dict[str, Any]]) -> tuple[PricedLine, ...]:
    items = json.loads(raw) if isinstance(raw, str) else raw
    return tuple(PricedLine(**item) for item in items)


def _invoice(row: Any) -> Invoice:
    return Invoice(
        id=str(row.id),
        number=row.number,
        saga_id=row.saga_id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        status=InvoiceStatus(row.status),
        payment_terms=PaymentTerms(row.payment_terms),
        currency=row.currency,
        lines=_lines(row.lines),
        subtotal_minor=int(row.subtotal_minor),
        tax_minor=int(row.tax_minor),
        discount_minor=int(row.discount_minor),
        total_minor=int(row.total_minor),
        issued_at=row.issued_at,
        due_at=row.due_at,
        paid_at=row.paid_at,
        voided_at=row.voided_at,
        void_reason=row.void_reason,
    )
