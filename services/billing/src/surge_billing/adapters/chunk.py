"""Billing's group-commit hooks (`surge_platform.db.on_chunk`): `lock_chunk`, then `ChunkReader`.

`lock_chunk` takes the chunk's advisory locks up front (see `repository.py` for why). Under the
locks it took, `ChunkReader` reads the issue context of every IssueInvoice of the chunk and
the credit of every on-account customer with one statement each, instead of two to five round
trips per invoice (see `read_ahead.py` for why the answers stay exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge_platform.db import BatchTransaction, raw_execute

from surge_billing.adapters.accounts import CreditRepository
from surge_billing.adapters.read_ahead import read_ahead
from surge_billing.adapters.repository import ORDER_LOCK_NAMESPACE, InvoiceRepository

__all__ = ["ChunkReader", "lock_chunk"]

# The locks of `InvoiceRepository.lock_order` and `lock_customer` for many keys, taken in key
# order (the subquery fixes the order of the calls).
_LOCK_ORDERS = text(
    f"SELECT count(pg_advisory_xact_lock({ORDER_LOCK_NAMESPACE}, hashtext(k))) "
    "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS sorted"
)
_LOCK_CUSTOMERS = text(
    "SELECT count(pg_advisory_xact_lock(hashtext(k))) "
    "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS sorted"
)
_BILLING_COMMANDS = "surge.billing.v1."


async def lock_chunk(batch: BatchTransaction, messages: Sequence[Any]) -> None:
    """Take the chunk's order locks, then its customer locks, each set sorted, before any
    handler runs (see `repository.py`)."""
    commands = [m for m in messages if m.DESCRIPTOR.full_name.startswith(_BILLING_COMMANDS)]
    if len(commands) < 2:
        return
    orders = sorted({m.order_id for m in commands if getattr(m, "order_id", "")})
    customers = sorted({m.customer_id for m in commands if getattr(m, "customer_id", "")})
    if orders:
        await raw_execute(batch.connection, _LOCK_ORDERS, {"keys": orders})
    if customers:
        await raw_execute(batch.connection, _LOCK_CUSTOMERS, {"keys": customers})
    held = read_ahead(batch)
    assert held is not None
    held.orders.update(orders)
    held.customers.update(customers)


class ChunkReader:
    """The hook, bound to the credit defaults the handlers ask with (`BillingPolicy`)."""

    def __init__(self, default_limit_minor: int, credit_currency: str) -> None:
        self._default_limit_minor = default_limit_minor
        self._credit_currency = credit_currency

    async def __call__(self, batch: BatchTransaction, messages: Sequence[Any]) -> None:
        held = read_ahead(batch, create=False)
        if held is None:  # lock_chunk left locking to the handlers: nothing is safe to read
            return
        keys: set[tuple[str, str, str]] = set()
        customers: set[str] = set()
        for message in messages:
            if not isinstance(message, billing_pb2.IssueInvoiceCommand):
                continue
            held.invoices_expected += 1
            if message.order_id in held.orders:
                # The handler asks with the invoice's one currency; a command whose total is in
                # another one (or none) misses here and reads the database, as before.
                keys.add((message.order_id, message.saga_id, message.total.currency))
            if (
                message.payment_terms == common_pb2.PAYMENT_TERMS_ON_ACCOUNT
                and message.customer_id in held.customers
            ):
                customers.add(message.customer_id)
        if keys:
            ordered = sorted(keys)
            held.contexts.update(await InvoiceRepository(batch.connection).issue_contexts(ordered))
        if customers:
            credits = await CreditRepository(batch.connection).credits(
                sorted(customers), self._default_limit_minor, self._credit_currency
            )
            for customer_id, credit in credits.items():
                key = (customer_id, self._default_limit_minor, self._credit_currency)
                held.credits[key] = credit
