"""Douyin shop (`order_id`, `post_receiver`, `post_addr.{province,city,town}.name`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from surge_gateway.schemas import OrderCreate


class _Named(BaseModel):
    name: str


class _PostAddr(BaseModel):
    province: _Named
    city: _Named
    town: _Named
    detail: str


class _SkuOrder(BaseModel):
    out_sku_id: str
    item_num: int


class DouyinOrder(BaseModel):
    order_id: str = Field(min_length=1, max_length=64)
    open_id: str = Field(min_length=1)
    post_receiver: str
    post_tel: str
    post_addr: _PostAddr
    post_code: str
    sku_order_list: list[_SkuOrder] = Field(min_length=1)


def to_order(payload: Any) -> OrderCreate:
    o = DouyinOrder.model_validate(payload)
    return OrderCreate.model_validate(
        {
            "channel": "douyin",
            "external_id": o.order_id,
            "customer": {"id": f"douyin:{o.open_id}", "name": o.post_receiver, "phone": o.post_tel},
            "shipping_address": {
                "province": o.post_addr.province.name,
                "city": o.post_addr.city.name,
                "district": o.post_addr.town.name,
                "line1": o.post_addr.detail,
                "postal_code": o.post_code,
            },
            "lines": [{"sku": s.out_sku_id, "quantity": s.item_num} for s in o.sku_order_list],
            "payment_terms": "on_account",
        }
    )
