"""Edge models of `/v1/promotions`, tiers, member prices and purchase limits (an order's
per-line price breakdown is `schemas.LinePricing`). Amounts are integer minor units (fen).

Types and ranges are checked here; what makes a promotion valid (percent 1-100, a window that
ends after it starts, a known gift SKU...) is the order service's rule, returned as 422 with
per-field errors, so there is one definition of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from surge_gateway.schemas import PRINTABLE

__all__ = [
    "CustomerTier",
    "MemberPriceIn",
    "MemberPriceList",
    "MemberPricePublic",
    "PromotionCreate",
    "PromotionKindName",
    "PromotionList",
    "PromotionPublic",
    "PromotionUpdate",
    "PurchaseLimitIn",
    "PurchaseLimitList",
    "PurchaseLimitPublic",
    "TierIn",
]

PromotionKindName = Literal["percent_coupon", "fixed_coupon", "threshold", "gift"]
Amount = Annotated[int, Field(ge=-(2**62), le=2**62, description="Minor units (fen)")]
Count = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
SkuCode = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PromotionUpdate(_In):
    """Fields to change; anything left out keeps its value."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)] | None = None
    active: bool | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    percent: Count | None = None
    amount_minor: Amount | None = None
    min_spend_minor: Amount | None = None
    threshold_minor: Amount | None = None
    repeat: bool | None = None
    usage_limit: Count | None = None
    per_customer_limit: Count | None = None
    buy_sku: SkuCode | None = None
    buy_quantity: Count | None = None
    gift_sku: SkuCode | None = None
    gift_quantity: Count | None = None


class PromotionCreate(_In):
    """A promotion: a coupon (`percent_coupon`, `fixed_coupon`, with a `code`) or an automatic
    `threshold` (满减) or `gift` (buy X get Y) promotion."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
    kind: PromotionKindName
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    code: Code | None = Field(default=None, description="Coupons only; case-insensitive")
    percent: Count = Field(default=0, description="percent_coupon: 1-100")
    amount_minor: Amount = Field(
        default=0, description="fixed_coupon: amount off; threshold: amount off per threshold"
    )
    min_spend_minor: Amount = Field(default=0, description="Coupons: minimum order amount")
    threshold_minor: Amount = Field(default=0, description="threshold: spend per step")
    repeat: bool = Field(default=False, description="threshold: per every step, not once")
    usage_limit: Count = Field(default=0, description="Coupons: total uses; 0 = unlimited")
    per_customer_limit: Count = Field(default=0, description="Coupons: uses per customer")
    buy_sku: SkuCode | None = None
    buy_quantity: Count = 0
    gift_sku: SkuCode | None = None
    gift_quantity: Count = 0


class PromotionPublic(BaseModel):
    id: str
    name: str
    kind: PromotionKindName | None
    active: bool
    starts_at: datetime | None
    ends_at: datetime | None
    code: str | None
    percent: int
    amount_minor: int
    min_spend_minor: int
    threshold_minor: int
    repeat: bool
    usage_limit: int
    per_customer_limit: int
    used: int
    buy_sku: str | None
    buy_quantity: int
    gift_sku: str | None
    gift_quantity: int
    created_at: datetime | None
    updated_at: datetime | None


class PromotionList(BaseModel):
    items: list[PromotionPublic]


class TierIn(_In):
    tier: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = Field(
        description="Empty removes the customer from any tier"
    )


class CustomerTier(BaseModel):
    customer_id: str
    tier: str | None


class MemberPriceIn(_In):
    unit_price_minor: int = Field(ge=1, le=10**12, description="Price of one unit for the tier")


class MemberPricePublic(BaseModel):
    tier: str
    sku: str
    unit_price_minor: int


class MemberPriceList(BaseModel):
    items: list[MemberPricePublic]


class PurchaseLimitIn(_In):
    max_quantity: int = Field(ge=1, le=1_000_000, description="Units per customer, all orders")


class PurchaseLimitPublic(BaseModel):
    sku: str
    max_quantity: int


class PurchaseLimitList(BaseModel):
    items: list[PurchaseLimitPublic]
