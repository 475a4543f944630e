"""Our own web shop's webhook payload."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from surge_gateway.schemas import OrderCreate


class _Customer(BaseModel):
    user_id: str = Field(min_length=1)
    name: str
    mobile: str


class _ShipTo(BaseModel):
    province: str
    city: str
    district: str
    street: str
    zip: str


class _Item(BaseModel):
    sku: str
    qty: int


class WebOrder(BaseModel):
    order_no: str = Field(min_length=1, max_length=128)
    customer: _Customer
    ship_to: _ShipTo
    items: list[_Item] = Field(min_length=1)
    pay_later: bool = False
    coupon: str | None = None


def to_order(payload: Any) -> OrderCreate:
    p = WebOrder.model_validate(payload)
    return OrderCreate.model_validate(
        {
            "channel": "web",
            "external_id": p.order_no,
            "customer": {
                "id": f"web:{p.customer.user_id}",
                "name": p.customer.name,
                "phone": p.customer.mobile,
            },
            "shipping_address": {
                "province": p.ship_to.province,
                "city": p.ship_to.city,
                "district": p.ship_to.district,
                "line1": p.ship_to.street,
                "postal_code": p.ship_to.zip,
            },
            "lines": [{"sku": i.sku, "quantity": i.qty} for i in p.items],
            "payment_terms": "on_account" if p.pay_later else "prepaid",
            "coupon_code": p.coupon,
        }
    )
