"""Tmall (Taobao Open Platform trade shape: `tid`, `receiver_*`, `orders.order[]`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from surge_gateway.schemas import OrderCreate


class _SubOrder(BaseModel):
    outer_sku_id: str
    num: int


class _Orders(BaseModel):
    order: list[_SubOrder] = Field(min_length=1)


class TmallTrade(BaseModel):
    tid: str = Field(min_length=1, max_length=64)
    buyer_open_uid: str = Field(min_length=1)
    receiver_name: str
    receiver_mobile: str
    receiver_state: str
    receiver_city: str
    receiver_district: str
    receiver_address: str
    receiver_zip: str
    orders: _Orders


def to_order(payload: Any) -> OrderCreate:
    t = TmallTrade.model_validate(payload)
    return OrderCreate.model_validate(
        {
            "channel": "tmall",
            "external_id": t.tid,
            "customer": {
                "id": f"tmall:{t.buyer_open_uid}",
                "name": t.receiver_name,
                "phone": t.receiver_mobile,
            },
            "shipping_address": {
                "province": t.receiver_state,
                "city": t.receiver_city,
                "district": t.receiver_district,
                "line1": t.receiver_address,
                "postal_code": t.receiver_zip,
            },
            "lines": [{"sku": o.outer_sku_id, "quantity": o.num} for o in t.orders.order],
            # Paid to the marketplace, which settles with us: invoiced on account.
            "payment_terms": "on_account",
        }
    )
