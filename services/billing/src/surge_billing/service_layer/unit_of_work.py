"""The billing unit of work: one transaction with the billing repositories bound to it."""

from __future__ import annotations

from collections.abc import Callable

from surge_platform.db import SqlUnitOfWork

from surge_billing.adapters.accounts import CreditRepository, PaymentRepository
from surge_billing.adapters.repository import InvoiceRepository

__all__ = ["BillingUnitOfWork"]


class BillingUnitOfWork(SqlUnitOfWork):
    invoices: InvoiceRepository
    payments: PaymentRepository
    credit: CreditRepository

    async def _open(self) -> None:
        self.invoices = InvoiceRepository(self.connection)
        self.payments = PaymentRepository(self.connection)
        self.credit = CreditRepository(self.connection)
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this transaction has committed (e.g. count a metric); never
        if it rolls back, so metrics only count what really happened."""
        self._after_commit.append(callback)

    async def commit(self) -> None:
        await super().commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()
