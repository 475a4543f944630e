"""JD (camelCase order shape: `orderId`, `consigneeInfo`, `itemInfoList[]`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from surge_gateway.schemas import OrderCreate


class _Consignee(BaseModel):
    fullname: str
    mobile: str
    province: str
    city: str
    county: str
    fullAddress: str  # noqa: N815 - JD's field name
    postCode: str  # noqa: N815 - JD's field name


class _Item(BaseModel):
    outerSkuId: str  # noqa: N815 - JD's field name
    itemTotal: int  # noqa: N815 - JD sends it as a string; pydantic coerces "2" -> 2


class JdOrder(BaseModel):
    orderId: str = Field(min_length=1, max_length=64)  # noqa: N815 - JD's field name
    pin: str = Field(min_length=1)
    consigneeInfo: _Consignee  # noqa: N815 - JD's field name
    itemInfoList: list[_Item] = Field(min_length=1)  # noqa: N815 - JD's field name


def to_order(payload: Any) -> OrderCreate:
    o = JdOrder.model_validate(payload)
    c = o.consigneeInfo
    return OrderCreate.model_validate(
        {
            "channel": "jd",
            "external_id": o.orderId,
            "customer": {"id": f"jd:{o.pin}", "name": c.fullname, "phone": c.mobile},
            "shipping_address": {
                "province": c.province,
                "city": c.city,
                "district": c.county,
                "line1": c.fullAddress,
                "postal_code": c.postCode,
            },
            "lines": [{"sku": i.outerSkuId, "quantity": i.itemTotal} for i in o.itemInfoList],
            "payment_terms": "on_account",
        }
    )
