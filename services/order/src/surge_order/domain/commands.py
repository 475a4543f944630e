"""What callers ask of the order service (imperative, frozen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from surge_order.domain.order import Address, Customer, LineRequest, PaymentTerms
from surge_order.domain.status import OrderStatus

__all__ = ["CancelOrder", "ListOrders", "PlaceOrder", "RecordPayment", "RetrySaga"]


@dataclass(frozen=True)
class PlaceOrder:
    client_order_id: str
    channel: str
    external_id: str
    customer: Customer
    address: Address
    lines: tuple[LineRequest, ...]
    payment_terms: PaymentTerms | None
    coupon_code: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordPayment:
    order_id: str
    amount_minor: int
    currency: str
    method: str
    reference: str


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str
    actor: str


@dataclass(frozen=True)
class RetrySaga:
    order_id: str
    actor: str


@dataclass(frozen=True)
class ListOrders:
    status: OrderStatus | None = None
    channel: str = ""
    customer_id: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    page_size: int = 0
    page_token: str = ""
