"""Response bodies of `/v1/reports/...` (finance reports). Money is integer minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from surge_gateway.schemas import Money

__all__ = [
    "AgingReport",
    "AgingRow",
    "InvoiceStatusName",
    "Mismatch",
    "MismatchKindName",
    "ReconciliationReport",
    "ReconciliationSummary",
    "SalesGroupName",
    "SalesReport",
    "SalesRow",
]

MismatchKindName = Literal[
    "unpaid_past_due",
    "paid_not_invoiced",
    "order_invoice_amount",
    "payment_amount",
    "order_not_invoiced",
]
SalesGroupName = Literal["day", "channel", "sku", "customer"]
InvoiceStatusName = Literal["issued", "paid", "void"]


class Mismatch(BaseModel):
    kind: MismatchKindName
    order_id: str
    customer_id: str
    order_status: str | None
    order_total: Money
    invoiced: Money
    paid: Money
    invoice_id: str | None
    invoice_number: str | None
    due_at: datetime | None
    detail: str


class ReconciliationSummary(BaseModel):
    order_count: int
    ordered: Money
    invoiced: Money
    paid: Money
    mismatch_count: int


class ReconciliationReport(BaseModel):
    period_start: datetime
    period_end: datetime
    as_of: datetime
    summary: ReconciliationSummary
    mismatches: list[Mismatch]


class AgingRow(BaseModel):
    customer_id: str
    current: Money
    days_1_30: Money
    days_31_60: Money
    days_61_90: Money
    days_over_90: Money
    total: Money
    invoice_count: int


class AgingReport(BaseModel):
    as_of: datetime
    rows: list[AgingRow]
    total: AgingRow


class SalesRow(BaseModel):
    key: str
    order_count: int
    gmv: Money
    average_order_value: Money
    refunds: Money
    units: int


class SalesReport(BaseModel):
    period_start: datetime
    period_end: datetime
    group_by: SalesGroupName
    rows: list[SalesRow]
    total: SalesRow
