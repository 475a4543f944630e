"""The billing unit of work: one transaction with the billing repositories bound to it."""

from __future__ import annotations

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
