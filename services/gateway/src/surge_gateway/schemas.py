"""Pydantic models at the edge: what clients send (`...Create`) and see (`...Public`).

Prices never come from the client: an order carries SKUs and quantities, the order service
prices them from the catalog. Money is integer minor units plus an ISO currency code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AddressIn",
    "AdjustmentCreate",
    "CancelRequest",
    "CustomerIn",
    "DeliverRequest",
    "DispatchRequest",
    "InvoicePage",
    "InvoicePublic",
    "Money",
    "OrderCreate",
    "OrderDetail",
    "OrderPage",
    "OrderPublic",
    "PaymentCreate",
    "ShipmentPublic",
    "SkuCreate",
    "SkuPublic",
    "StockPublic",
    "WarehouseList",
]

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
# Printable text only: control characters (NUL above all) never reach a service or a database.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
Token = Annotated[str, Field(min_length=1, max_length=128, pattern=PRINTABLE)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])]
Channel = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["web"])]
OrderStatusName = Literal[
    "pending_payment",
    "paid",
    "pending_review",
    "reserving",
    "awaiting_shipment",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "closed",
    "refund_requested",
    "partially_refunded",
    "refunded",
]
PaymentTermsName = Literal["prepaid", "on_account"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Money(BaseModel):
    """An amount in integer minor units (fen, cents) of one currency."""

    amount_minor: int = Field(ge=-(2**62), le=2**62)
    currency: Currency


class CustomerIn(_In):
    id: Token | None = Field(
        default=None, description="Defaults to the token subject for customers; required for staff"
    )
    name: Text
    phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{5,19}$", examples=["+8613800000000"])]


class AddressIn(_In):
    province: Text
    city: Text
    district: Text
    line1: Text
    postal_code: Annotated[str, Field(pattern=r"^[0-9]{4,10}$")]


class OrderLineIn(_In):
    sku: Sku
    quantity: int = Field(ge=1, le=10_000)


class OrderCreate(_In):
    """A new order. Prices come from the catalog, never from the client."""

    channel: Channel = "web"
    external_id: Token | None = None
    customer: CustomerIn
    shipping_address: AddressIn
    lines: list[OrderLineIn] = Field(min_length=1, max_length=100)
    payment_terms: PaymentTermsName
    coupon_code: Token | None = None


class Customer(BaseModel):
    id: str
    name: str
    phone: str


class Address(BaseModel):
    province: str
    city: str
    district: str
    line1: str
    postal_code: str


class OrderLine(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_discount: Money
    line_total: Money


class StatusChange(BaseModel):
    from_status: OrderStatusName | None
    to_status: OrderStatusName
    reason: str
    at: datetime | None


class SagaStep(BaseModel):
    step: str
    direction: Literal["forward", "compensate"] | None
    status: Literal["started", "succeeded", "failed"] | None
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    failure_reason: str | None


class Saga(BaseModel):
    id: str
    state: (
        Literal[
            "running",
            "awaiting_payment",
            "awaiting_review",
            "completed",
            "compensating",
            "compensated",
            "compensation_failed",
        ]
        | None
    )
    current_step: str | None
    steps: list[SagaStep]
    started_at: datetime | None
    updated_at: datetime | None


class Adjustment(BaseModel):
    """One discount on a line."""

    kind: str = Field(description="member_price, gift, threshold, percent_coupon, fixed_coupon")
    promotion_id: str | None
    code: str | None = Field(description="Coupon code, or the tier for member prices")
    amount: Money


class LinePricing(BaseModel):
    """How one line was priced: `final_amount` = `list_amount` - the adjustments."""

    sku: str
    quantity: int
    gift_quantity: int
    list_unit_price: Money
    list_amount: Money
    adjustments: list[Adjustment]
    final_amount: Money


class OrderPublic(BaseModel):
    """An order as clients see it."""

    id: str
    status: OrderStatusName | None
    channel: str
    external_id: str | None
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine]
    subtotal: Money
    discount_total: Money
    total: Money
    payment_terms: PaymentTermsName | None
    tags: list[str]
    cancel_reason: str | None
    coupon_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    version: int
    links: dict[str, str]
    # Per line: list price, every discount (promotion id / code, amount), final amount.
    pricing: list[LinePricing] = Field(default_factory=list)


class ShipmentLine(BaseModel):
    sku: str
    quantity: int


class ShipmentPublic(BaseModel):
    id: str
    order_id: str
    warehouse: str
    carrier: str
    tracking_number: str
    status: Literal["created", "picked", "packed", "dispatched", "delivered", "cancelled"] | None
    lines: list[ShipmentLine]
    weight_grams: int
    created_at: datetime | None
    updated_at: datetime | None
    dispatched_at: datetime | None
    delivered_at: datetime | None


class InvoiceLine(BaseModel):
    sku: str
    description: str
    quantity: int
    unit_price: Money
    discount: Money
    tax: Money
    amount: Money


class InvoicePublic(BaseModel):
    id: str
    number: str
    order_id: str
    customer_id: str
    status: Literal["issued", "paid", "void"] | None
    payment_terms: PaymentTermsName | None
    lines: list[InvoiceLine]
    subtotal: Money
    discount_total: Money
    tax: Money
    total: Money
    issued_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None


class OrderDetail(OrderPublic):
    """An order with its status history, saga, shipments and invoice."""

    history: list[StatusChange]
    saga: Saga | None
    shipments: list[ShipmentPublic]
    invoice: InvoicePublic | None


class OrderPage(BaseModel):
    items: list[OrderPublic]
    next_cursor: str | None


class InvoicePage(BaseModel):
    items: list[InvoicePublic]
    next_cursor: str | None


class CancelRequest(_In):
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=PRINTABLE)] = (
        "cancelled by request"
    )


class PaymentCreate(_In):
    amount: Money
    method: Annotated[str, Field(min_length=1, max_length=32, pattern=PRINTABLE)]
    reference: Token


class SkuCreate(_In):
    sku: Sku
    name: Text
    unit_price: int = Field(ge=0, le=10**12, description="Minor units")
    currency: Currency = "CNY"
    weight_grams: int = Field(ge=0, le=1_000_000)
    category: Text


class SkuPublic(BaseModel):
    sku: str
    name: str
    unit_price: Money
    weight_grams: int
    category: str
    active: bool


class WarehouseStock(BaseModel):
    warehouse: str
    on_hand: int
    reserved: int
    available: int


class StockPublic(BaseModel):
    sku: str
    on_hand: int
    reserved: int
    available: int
    warehouses: list[WarehouseStock]


class AdjustmentCreate(_In):
    sku: Sku
    warehouse: Annotated[str, Field(min_length=1, max_length=32, pattern=PRINTABLE)]
    quantity: int = Field(ge=-1_000_000, le=1_000_000, description="+ receives, - removes")
    reason: Text


class Warehouse(BaseModel):
    code: str
    name: str
    region: str


class WarehouseList(BaseModel):
    items: list[Warehouse]


class DispatchRequest(_In):
    carrier: Annotated[str, Field(min_length=1, max_length=32, pattern=PRINTABLE)] | None = None
    tracking_number: Token | None = None


class DeliverRequest(_In):
    delivered_at: datetime | None = None


class ChannelOrderAccepted(BaseModel):
    """Result of a channel webhook: the order and whether it was new or flagged."""

    order: OrderPublic
    created: bool
    possible_duplicate: bool
