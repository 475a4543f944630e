"""What a group commit of billing commands read ahead for its handlers.

`chunk.lock_chunk` takes the chunk's order and customer advisory locks up front;
`chunk.read_chunk` then reads, with one statement each, the issue context of every order and the
credit of every on-account customer the chunk names. Handlers ask the repositories as before: a
repository answers from here when it can, and from the database otherwise.

The answers stay exact because the batch holds the locks that serialise every change to them
(an order's invoice and payments: its order lock; a customer's open credit: its customer lock),
and every write the batch makes itself drops what it may have changed, so a later handler in the
same batch reads the database again (which sees the batch's own writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import BatchTransaction, prefetched

from surge_billing.domain.credit import Credit

if TYPE_CHECKING:
    from surge_billing.adapters.repository import IssueContext

__all__ = ["ReadAhead", "read_ahead", "read_ahead_of"]

_KEY = "surge_billing.read_ahead"


@dataclass
class ReadAhead:
    # Advisory locks the batch already holds: a handler need not take them again.
    orders: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    # (order id, saga id, currency) -> what issuing needs to know about the order.
    contexts: dict[tuple[str, str, str], IssueContext] = field(default_factory=dict)
    # (customer id, default limit, default currency) -> the customer's credit.
    credits: dict[tuple[str, int, str], Credit] = field(default_factory=dict)
    # IssueInvoice commands in the chunk: the size of its block of invoice numbers (0: the
    # batch numbers each invoice with its own statement; see numbering.py).
    invoices_expected: int = 0

    def forget_order(self, order_id: str) -> None:
        for key in [key for key in self.contexts if key[0] == order_id]:
            del self.contexts[key]

    def forget_customer(self, customer_id: str) -> None:
        for key in [key for key in self.credits if key[0] == customer_id]:
            del self.credits[key]

    def forget_all(self) -> None:
        """After a write whose order or customer the caller does not know (void, mark paid)."""
        self.contexts.clear()
        self.credits.clear()


def read_ahead(batch: BatchTransaction, *, create: bool = True) -> ReadAhead | None:
    """The batch's read-ahead, created on first use unless `create` is False."""
    found = batch.prefetched.get(_KEY)
    if not isinstance(found, ReadAhead):
        if not create:
            return None
        found = batch.prefetched[_KEY] = ReadAhead()
    return found


def read_ahead_of(connection: AsyncConnection) -> ReadAhead | None:
    """The read-ahead of the group commit running on `connection`, if any."""
    found = prefetched(connection, _KEY)
    return found if isinstance(found, ReadAhead) else None
