"""Promotions, coupons, member prices and purchase limits as data, and the rules a valid one obeys.

One `Promotion` shape covers every kind; the fields a kind does not use stay zero. Amounts are
minor units of the order's currency. Coupons are the promotions with a code; the others
(threshold, gift) apply to every order in their validity window automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "COUPON_KINDS",
    "MAX_AMOUNT_MINOR",
    "MemberPrice",
    "Promotion",
    "PromotionKind",
    "PurchaseLimit",
    "normalise_code",
    "promotion_violations",
]

MAX_AMOUNT_MINOR = 10**12
_MAX_COUNT = 10_000_000


class PromotionKind(StrEnum):
    PERCENT_COUPON = "percent_coupon"
    FIXED_COUPON = "fixed_coupon"
    THRESHOLD = "threshold"
    GIFT = "gift"


COUPON_KINDS = frozenset({PromotionKind.PERCENT_COUPON, PromotionKind.FIXED_COUPON})


@dataclass(frozen=True)
class Promotion:
    id: str
    name: str
    kind: PromotionKind
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    code: str = ""
    percent: int = 0
    amount_minor: int = 0
    min_spend_minor: int = 0
    threshold_minor: int = 0
    repeat: bool = False
    usage_limit: int = 0  # 0 = unlimited
    per_customer_limit: int = 0  # 0 = unlimited
    used: int = 0
    buy_sku: str = ""
    buy_quantity: int = 0
    gift_sku: str = ""
    gift_quantity: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_coupon(self) -> bool:
        return self.kind in COUPON_KINDS

    def in_window(self, at: datetime) -> bool:
        if self.starts_at is not None and at < self.starts_at:
            return False
        return self.ends_at is None or at < self.ends_at

    def applies_at(self, at: datetime) -> bool:
        return self.active and self.in_window(at)


@dataclass(frozen=True)
class MemberPrice:
    tier: str
    sku: str
    unit_price_minor: int


@dataclass(frozen=True)
class PurchaseLimit:
    sku: str
    max_quantity: int


def normalise_code(code: str) -> str:
    """Coupon codes compare case-insensitively: customers type them."""
    return code.strip().upper()


def promotion_violations(p: Promotion) -> dict[str, str]:
    """Everything wrong with a promotion that can be told without the catalog."""
    problems: dict[str, str] = {}
    if not p.name.strip():
        problems["name"] = "is required"
    elif len(p.name) > 200:
        problems["name"] = "must be at most 200 characters"
    if p.starts_at is not None and p.ends_at is not None and p.ends_at <= p.starts_at:
        problems["ends_at"] = "must be after starts_at"
    for name in ("amount_minor", "min_spend_minor", "threshold_minor"):
        value = getattr(p, name)
        if value < 0:
            problems[name] = "must not be negative"
        elif value > MAX_AMOUNT_MINOR:
            problems[name] = f"must be at most {MAX_AMOUNT_MINOR}"
    for name in ("usage_limit", "per_customer_limit", "buy_quantity", "gift_quantity"):
        value = getattr(p, name)
        if value < 0:
            problems[name] = "must not be negative"
        elif value > _MAX_COUNT:
            problems[name] = f"must be at most {_MAX_COUNT}"
    if p.is_coupon:
        if not p.code:
            problems["code"] = "is required for a coupon"
        elif not p.code.replace("-", "").replace("_", "").isalnum() or len(p.code) > 64:
            problems["code"] = "must be 1-64 letters, digits, '-' or '_'"
    elif p.code:
        problems["code"] = "only coupons have a code"
    match p.kind:
        case PromotionKind.PERCENT_COUPON:
            if not 1 <= p.percent <= 100:
                problems["percent"] = "must be between 1 and 100"
        case PromotionKind.FIXED_COUPON:
            if "amount_minor" not in problems and p.amount_minor <= 0:
                problems["amount_minor"] = "must be greater than 0"
        case PromotionKind.THRESHOLD:
            if "threshold_minor" not in problems and p.threshold_minor <= 0:
                problems["threshold_minor"] = "must be greater than 0"
            if "amount_minor" not in problems and p.amount_minor <= 0:
                problems["amount_minor"] = "must be greater than 0"
            elif "threshold_minor" not in problems and p.amount_minor > p.threshold_minor:
                problems["amount_minor"] = "must not exceed threshold_minor"
        case PromotionKind.GIFT:
            if not p.buy_sku.strip():
                problems["buy_sku"] = "is required"
            if not p.gift_sku.strip():
                problems["gift_sku"] = "is required"
            if "buy_quantity" not in problems and p.buy_quantity <= 0:
                problems["buy_quantity"] = "must be greater than 0"
            if "gift_quantity" not in problems and p.gift_quantity <= 0:
                problems["gift_quantity"] = "must be greater than 0"
    if p.kind is not PromotionKind.PERCENT_COUPON and p.percent:
        problems.setdefault("percent", "only percent coupons have a percent")
    return problems
