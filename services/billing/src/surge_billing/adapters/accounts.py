"""SQLAlchemy Core queries for payments and credit limits.

Payments are idempotent on the order service's payment id (`source_id`) and on (order,
provider reference); callers hold the order's advisory lock (`InvoiceRepository.lock_order`)
while recording one, so a payment and an invoice issue of the same order never miss each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import raw_fetch, raw_fetchrow

from surge_billing.adapters.numbering import InvoiceReader
from surge_billing.adapters.read_ahead import read_ahead_of
from surge_billing.domain.credit import Credit
from surge_billing.domain.invoices import Payment

__all__ = ["CREDIT_SQL", "CreditQuery", "CreditRepository", "PaymentRepository"]

_PAYMENT_COLUMNS = (
    "id, source_id, order_id, customer_id, amount_minor, currency, method, reference, received_at"
)
_INSERT_PAYMENT = text(
    f"INSERT INTO payments ({_PAYMENT_COLUMNS}) VALUES (:id, :source_id, :order_id, "
    ":customer_id, :amount_minor, :currency, :method, :reference, :received_at) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
_PAYMENT_BY_SOURCE = text(f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE source_id = :source_id")
_PAYMENT_BY_REFERENCE = text(
    f"SELECT {_PAYMENT_COLUMNS} FROM payments "
    "WHERE order_id = :order_id AND reference = :reference AND reference <> ''"
)
_PAID_FOR_ORDER = text(
    "SELECT coalesce(sum(amount_minor), 0) FROM payments "
    "WHERE order_id = :order_id AND currency = :currency"
)

# One customer's limit (or the default) and open on-account total; also read by
# `InvoiceRepository.issue_context` with the order's context.
CREDIT_SQL = (
    "SELECT coalesce(l.limit_minor, :default_limit) AS limit_minor, "
    "coalesce(l.currency, :default_currency) AS currency, "
    "(SELECT coalesce(sum(i.total_minor), 0) FROM invoices i "
    " WHERE i.customer_id = :customer_id AND i.status = 'ISSUED' "
    " AND i.payment_terms = 'ON_ACCOUNT' "
    " AND i.currency = coalesce(l.currency, :default_currency)) AS used_minor "
    "FROM (SELECT 1) AS one LEFT JOIN credit_limits l ON l.customer_id = :customer_id"
)
_CREDIT = text(CREDIT_SQL)
# (customer id, default limit in minor units, default currency): what a credit read asks with.
CreditQuery = tuple[str, int, str]
# The same for many customers at once (a group commit's read-ahead).
_CREDITS = text(
    "SELECT k.key_customer, coalesce(l.limit_minor, :default_limit) AS limit_minor, "
    "coalesce(l.currency, :default_currency) AS currency, "
    "(SELECT coalesce(sum(i.total_minor), 0) FROM invoices i "
    " WHERE i.customer_id = k.key_customer AND i.status = 'ISSUED' "
    " AND i.payment_terms = 'ON_ACCOUNT' "
    " AND i.currency = coalesce(l.currency, :default_currency)) AS used_minor "
    "FROM unnest(CAST(:customers AS text[])) AS k(key_customer) "
    "LEFT JOIN credit_limits l ON l.customer_id = k.key_customer"
)
_GET_LIMIT_FOR_UPDATE = text(
    "SELECT limit_minor FROM credit_limits WHERE customer_id = :customer_id FOR UPDATE"
)
_SET_LIMIT = text(
    "INSERT INTO credit_limits (customer_id, limit_minor, currency, updated_at, updated_by) "
    "VALUES (:customer_id, :limit_minor, :currency, :at, :actor) ON CONFLICT (customer_id) DO "
    "UPDATE SET limit_minor = excluded.limit_minor, currency = excluded.currency, "
    "updated_at = excluded.updated_at, updated_by = excluded.updated_by"
)
_AUDIT_LIMIT = text(
    "INSERT INTO credit_limit_changes (customer_id, old_limit_minor, new_limit_minor, currency, "
    "actor, changed_at) VALUES (:customer_id, :old, :new, :currency, :actor, :at)"
)


class PaymentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, payment: Payment) -> bool:
        """Insert unless the same payment (source id or order + reference) exists already."""
        held = read_ahead_of(self._connection)
        if held is not None:
            held.forget_order(payment.order_id)
        result = await self._connection.execute(
            _INSERT_PAYMENT,
            {
                "id": payment.id,
                "source_id": payment.source_id,
                "order_id": payment.order_id,
                "customer_id": payment.customer_id,
                "amount_minor": payment.amount_minor,
                "currency": payment.currency,
                "method": payment.method,
                "reference": payment.reference,
                "received_at": payment.received_at,
            },
        )
        return result.first() is not None

    async def by_source_id(self, source_id: str) -> Payment | None:
        params = {"source_id": source_id}
        row = (await self._connection.execute(_PAYMENT_BY_SOURCE, params)).first()
        return _payment(row) if row else None

    async def by_reference(self, order_id: str, reference: str) -> Payment | None:
        params = {"order_id": order_id, "reference": reference}
        row = (await self._connection.execute(_PAYMENT_BY_REFERENCE, params)).first()
        return _payment(row) if row else None

    async def total_for_order(self, order_id: str, currency: str) -> int:
        params = {"order_id": order_id, "currency": currency}
        return int((await self._connection.execute(_PAID_FOR_ORDER, params)).scalar_one())


class CreditRepository(InvoiceReader):
    """`writes`: as for `InvoiceRepository`: credit sums invoices, so pending ones go first."""

    async def credit(self, customer_id: str, default_limit_minor: int, currency: str) -> Credit:
        """The customer's own limit (or the default) and the total of their issued, unpaid
        ON_ACCOUNT invoices in the limit's currency, in one round trip."""
        held = read_ahead_of(self._connection)
        if held is not None:
            known = held.credits.get((customer_id, default_limit_minor, currency))
            if known is not None:
                return known
        await self._settle()
        params = {
            "customer_id": customer_id,
            "default_limit": default_limit_minor,
            "default_currency": currency,
        }
        row = await raw_fetchrow(self._connection, _CREDIT, params)
        assert row is not None  # the statement always returns one row
        return Credit(customer_id, int(row.limit_minor), int(row.used_minor), str(row.currency))

    async def credits(
        self, customer_ids: Sequence[str], default_limit_minor: int, currency: str
    ) -> dict[str, Credit]:
        """`credit` of many customers with one statement."""
        await self._settle()
        params = {
            "customers": list(customer_ids),
            "default_limit": default_limit_minor,
            "default_currency": currency,
        }
        rows = await raw_fetch(self._connection, _CREDITS, params)
        return {
            row.key_customer: Credit(
                row.key_customer, int(row.limit_minor), int(row.used_minor), str(row.currency)
            )
            for row in rows
        }

    async def set_limit(
        self, customer_id: str, limit_minor: int, currency: str, actor: str, at: datetime
    ) -> None:
        """Upsert the limit and append an audit row with the old and new values."""
        held = read_ahead_of(self._connection)
        if held is not None:
            held.forget_customer(customer_id)
        params = {"customer_id": customer_id}
        old = (await self._connection.execute(_GET_LIMIT_FOR_UPDATE, params)).scalar()
        values = {
            "customer_id": customer_id,
            "limit_minor": limit_minor,
            "currency": currency,
            "actor": actor,
            "at": at,
        }
        await self._connection.execute(_SET_LIMIT, values)
        await self._connection.execute(
            _AUDIT_LIMIT,
            {
                "customer_id": customer_id,
                "old": old,
                "new": limit_minor,
                "currency": currency,
                "actor": actor,
                "at": at,
            },
        )


def _payment(row: Any) -> Payment:
    return Payment(
        id=str(row.id),
        order_id=row.order_id,
        customer_id=row.customer_id,
        amount_minor=int(row.amount_minor),
        currency=row.currency,
        method=row.method,
        reference=row.reference,
        received_at=row.received_at,
        source_id=row.source_id,
    )
