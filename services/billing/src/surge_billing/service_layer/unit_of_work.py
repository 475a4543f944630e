"""The billing unit of work: one transaction with the billing repositories bound to it."""

from __future__ import annotations

from surge_platform.db import SqlUnitOfWork

from surge_billing.adapters.accounts import CreditRepository, PaymentRepository
from surge_billing.adapters.credit_notes_repository import CreditNoteRepository
from surge_billing.adapters.finance_repository import FinanceRepository
from surge_billing.adapters.numbering import InvoiceWrites
from surge_billing.adapters.repository import InvoiceRepository

__all__ = ["BillingUnitOfWork"]


class BillingUnitOfWork(SqlUnitOfWork):
    invoices: InvoiceRepository
    payments: PaymentRepository
    credit: CreditRepository
    credit_notes: CreditNoteRepository
    ledger: FinanceRepository

    async def _open(self) -> None:
        def writes() -> InvoiceWrites:
            return self.deferred(InvoiceWrites)

        self.invoices = InvoiceRepository(self.connection, writes)
        self.payments = PaymentRepository(self.connection)
        self.credit = CreditRepository(self.connection, writes)
        self.credit_notes = CreditNoteRepository(self.connection)
        self.ledger = FinanceRepository(self.connection)
