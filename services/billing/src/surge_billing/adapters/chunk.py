"""Group-commit read-ahead (`surge_platform.db.on_chunk`), registered after `lock_chunk`.

Under the locks `lock_chunk` took, read the issue context of every IssueInvoice of the chunk and
the credit of every on-account customer with one statement each, instead of two to five round
trips per invoice (see `read_ahead.py` for why the answers stay exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge_platform.db import BatchTransaction

from surge_billing.adapters.accounts import CreditRepository
from surge_billing.adapters.read_ahead import read_ahead
from surge_billing.adapters.repository import InvoiceRepository

__all__ = ["ChunkReader"]


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
