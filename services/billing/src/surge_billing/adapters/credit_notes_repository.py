"""SQLAlchemy Core queries for credit notes, refunds and order balances.

Numbering is gapless like invoices (see `repository.py`): the year's counter row is bumped in
the same statement that inserts the credit note, its row lock serialises issues of the year until
commit, and a rollback gives the number back. Callers hold the order's advisory lock
(`InvoiceRepository.lock_order`) so a credit note, a refund and a payment of one order never race.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from surge_billing.adapters.paging import newest_first
from surge_billing.adapters.repository import is_uuid
from surge_billing.domain.credit_notes import Balance, CreditNote, CreditNoteLine, Refund

__all__ = ["CreditNoteRepository"]

_CN_COLUMNS = (
    "id, number, invoice_id, invoice_number, order_id, customer_id, return_id, reason, currency, "
    "lines, total_minor, issued_at"
)
_REFUND_COLUMNS = (
    "id, source_id, order_id, customer_id, credit_note_id, amount_minor, currency, reason, "
    "refunded_at"
)
_INSERT_NUMBERED = text(
    "WITH n AS (INSERT INTO credit_note_counters AS c (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = c.last + 1 RETURNING c.last) "
    f"INSERT INTO credit_notes ({_CN_COLUMNS}, year, seq) VALUES (:id, "
    "'CN-' || lpad(CAST(:year AS text), 4, '0') || '-' || "
    "lpad(CAST((SELECT last FROM n) AS text), "
    "greatest(6, length(CAST((SELECT last FROM n) AS text))), '0'), "
    ":invoice_id, :invoice_number, :order_id, :customer_id, :return_id, :reason, :currency, "
    "CAST(:lines AS jsonb), :total_minor, :issued_at, :year, (SELECT last FROM n)) "
    "RETURNING seq, number"
)
_BY_ID = text(f"SELECT {_CN_COLUMNS} FROM credit_notes WHERE id = CAST(:id AS uuid)")
_BY_RETURN = text(f"SELECT {_CN_COLUMNS} FROM credit_notes WHERE return_id = :return_id")
_CREDITED_ON_INVOICE = text(
    "SELECT coalesce(sum(total_minor), 0) FROM credit_notes "
    "WHERE invoice_id = CAST(:invoice_id AS uuid)"
)
_INSERT_REFUND = text(
    f"INSERT INTO refunds ({_REFUND_COLUMNS}) VALUES (:id, :source_id, :order_id, :customer_id, "
    "CAST(:credit_note_id AS uuid), :amount_minor, :currency, :reason, :refunded_at) "
    "ON CONFLICT (source_id) DO NOTHING RETURNING id"
)
_REFUND_BY_SOURCE = text(f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE source_id = :source_id")
_REFUNDS_OF_ORDER = text(
    f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE order_id = :order_id ORDER BY refunded_at, id"
)
# One round trip; each sum is over the order's own rows (few), by indexed order_id.
_BALANCE = text(
    "SELECT "
    "(SELECT coalesce(sum(total_minor), 0) FROM invoices "
    " WHERE order_id = :order_id AND status <> 'VOID') AS invoiced, "
    "(SELECT coalesce(sum(total_minor), 0) FROM credit_notes WHERE order_id = :order_id) "
    " AS credited, "
    "(SELECT coalesce(sum(amount_minor), 0) FROM payments WHERE order_id = :order_id) AS paid, "
    "(SELECT coalesce(sum(amount_minor), 0) FROM refunds WHERE order_id = :order_id) AS refunded, "
    "coalesce((SELECT currency FROM invoices WHERE order_id = :order_id ORDER BY id DESC LIMIT 1),"
    " (SELECT currency FROM payments WHERE order_id = :order_id LIMIT 1), '') AS currency"
)


class CreditNoteRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_numbered(self, note: CreditNote, *, year: int) -> tuple[int, str]:
        """Insert `note` under the year's next number; returns (sequence, number). Call it last
        in the transaction: the counter row stays locked until commit."""
        row = (
            await self._connection.execute(
                _INSERT_NUMBERED,
                {
                    "id": note.id,
                    "invoice_id": note.invoice_id,
                    "invoice_number": note.invoice_number,
                    "order_id": note.order_id,
                    "customer_id": note.customer_id,
                    "return_id": note.return_id,
                    "reason": note.reason,
                    "currency": note.currency,
                    "lines": json.dumps([_line_json(line) for line in note.lines]),
                    "total_minor": note.total_minor,
                    "issued_at": note.issued_at,
                    "year": year,
                },
            )
        ).one()
        return int(row.seq), str(row.number)

    async def get(self, credit_note_id: str) -> CreditNote | None:
        if not is_uuid(credit_note_id):
            return None
        row = (await self._connection.execute(_BY_ID, {"id": credit_note_id})).first()
        return _credit_note(row) if row else None

    async def for_return(self, return_id: str) -> CreditNote | None:
        row = (await self._connection.execute(_BY_RETURN, {"return_id": return_id})).first()
        return _credit_note(row) if row else None

    async def credited_on(self, invoice_id: str) -> int:
        params = {"invoice_id": invoice_id}
        return int((await self._connection.execute(_CREDITED_ON_INVOICE, params)).scalar_one())

    async def page(
        self, *, order_id: str, customer_id: str, before_id: str | None, limit: int
    ) -> list[CreditNote]:
        """Newest first (UUIDv7 ids are issue order); `before_id` pages on."""
        query, params = newest_first(
            _CN_COLUMNS,
            "credit_notes",
            {"order_id": order_id, "customer_id": customer_id},
            before_id=before_id,
            limit=limit,
        )
        return [_credit_note(row) for row in (await self._connection.execute(query, params)).all()]

    async def add_refund(self, refund: Refund) -> bool:
        """Insert unless a refund with the same source exists; True if inserted."""
        result = await self._connection.execute(
            _INSERT_REFUND,
            {
                "id": refund.id,
                "source_id": refund.source_id,
                "order_id": refund.order_id,
                "customer_id": refund.customer_id,
                "credit_note_id": refund.credit_note_id,
                "amount_minor": refund.amount_minor,
                "currency": refund.currency,
                "reason": refund.reason,
                "refunded_at": refund.refunded_at,
            },
        )
        return result.first() is not None

    async def refund_by_source(self, source_id: str) -> Refund | None:
        row = (await self._connection.execute(_REFUND_BY_SOURCE, {"source_id": source_id})).first()
        return _refund(row) if row else None

    async def refunds_of(self, order_id: str) -> list[Refund]:
        rows = (await self._connection.execute(_REFUNDS_OF_ORDER, {"order_id": order_id})).all()
        return [_refund(row) for row in rows]

    async def balance(self, order_id: str) -> Balance:
        row = (await self._connection.execute(_BALANCE, {"order_id": order_id})).one()
        return Balance(
            order_id=order_id,
            currency=row.currency,
            invoiced_minor=int(row.invoiced),
            credited_minor=int(row.credited),
            paid_minor=int(row.paid),
            refunded_minor=int(row.refunded),
        )


def _line_json(line: CreditNoteLine) -> dict[str, Any]:
    return {"sku": line.sku, "quantity": line.quantity, "amount_minor": line.amount_minor}


def _lines(raw: str | Sequence[dict[str, Any]]) -> tuple[CreditNoteLine, ...]:
    items = json.loads(raw) if isinstance(raw, str) else raw
    return tuple(CreditNoteLine(**item) for item in items)


def _credit_note(row: Any) -> CreditNote:
    return CreditNote(
        id=str(row.id),
        number=row.number,
        invoice_id=str(row.invoice_id),
        invoice_number=row.invoice_number,
        order_id=row.order_id,
        customer_id=row.customer_id,
        return_id=row.return_id,
        reason=row.reason,
        currency=row.currency,
        lines=_lines(row.lines),
        total_minor=int(row.total_minor),
        issued_at=row.issued_at,
    )


def _refund(row: Any) -> Refund:
    return Refund(
        id=str(row.id),
        source_id=row.source_id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        amount_minor=int(row.amount_minor),
        currency=row.currency,
        reason=row.reason,
        refunded_at=row.refunded_at,
        credit_note_id=str(row.credit_note_id) if row.credit_note_id else None,
    )
