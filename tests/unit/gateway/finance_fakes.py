"""Fake FinanceService (billing) and ReportService (order) for the gateway's report and export
routes: fixed replies, and every request kept for assertions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from surge.billing.v1 import billing_pb2, finance_pb2
from surge.common.v1 import common_pb2
from surge.order.v1 import reports_pb2


def cny(amount: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount, currency="CNY")


def invoice(n: int) -> billing_pb2.Invoice:
    result = billing_pb2.Invoice(
        id=f"inv-{n}",
        number=f"INV-2026-{n:06d}",
        order_id=f"order-{n}",
        customer_id="=cmd|calc",  # a formula-looking value: exports must defuse it
        status=billing_pb2.INVOICE_STATUS_PAID if n % 2 else billing_pb2.INVOICE_STATUS_ISSUED,
        payment_terms=common_pb2.PAYMENT_TERMS_ON_ACCOUNT,
        subtotal=cny(100 * n),
        tax=cny(13 * n),
        total=cny(113 * n),
    )
    result.issued_at.FromSeconds(1_767_225_600 + n)  # 2026-01-01
    return result


@dataclass
class FakeFinance:
    requests: list[Any] = field(default_factory=list)
    invoices: int = 3
    chunk: int = 2

    async def GetReconciliation(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.requests.append(request)
        mismatch = finance_pb2.ReconciliationMismatch(
            kind=finance_pb2.MISMATCH_KIND_PAID_NOT_INVOICED,
            order_id="order-9",
            customer_id="cust-9",
            order_status="cancelled",
            order_total=cny(5000),
            invoiced=cny(0),
            paid=cny(5000),
            detail="paid 5000, no live invoice",
        )
        return finance_pb2.GetReconciliationResponse(
            mismatches=[mismatch],
            summary=finance_pb2.ReconciliationSummary(
                order_count=4,
                ordered=cny(20000),
                invoiced=cny(15000),
                paid=cny(20000),
                mismatch_count=1,
            ),
        )

    async def GetReceivablesAging(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.requests.append(request)
        row = finance_pb2.AgingRow(
            customer_id="cust-1",
            current=cny(100),
            days_1_30=cny(200),
            days_31_60=cny(0),
            days_61_90=cny(0),
            days_over_90=cny(700),
            total=cny(1000),
            invoice_count=3,
        )
        return finance_pb2.GetReceivablesAgingResponse(rows=[row], total=row)

    def ExportInvoices(self, request: Any, timeout: float) -> AsyncIterator[Any]:  # noqa: N802
        self.requests.append(request)

        async def stream() -> AsyncIterator[Any]:
            numbers = list(range(1, self.invoices + 1))
            for start in range(0, len(numbers), self.chunk):
                yield finance_pb2.ExportInvoicesResponse(
                    invoices=[invoice(n) for n in numbers[start : start + self.chunk]]
                )

        return stream()


@dataclass
class FakeReports:
    requests: list[Any] = field(default_factory=list)

    async def GetSalesReport(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.requests.append(request)

        def row(key: str, count: int, gmv: int) -> reports_pb2.SalesRow:
            return reports_pb2.SalesRow(
                key=key,
                order_count=count,
                gmv=cny(gmv),
                average_order_value=cny(gmv // count),
                refunds=cny(0),
                units=count * 2,
            )

        return reports_pb2.GetSalesReportResponse(
            rows=[row("pos", 3, 3000), row("web", 1, 500)], total=row("total", 4, 3500)
        )
