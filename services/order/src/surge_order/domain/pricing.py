"""The pricing pipeline: catalog list price -> member price -> gifts -> threshold -> coupon.

Every step records what it took off each line as an `Adjustment`, so an order keeps a per-line
breakdown finance can reconcile to the fen. Order-level discounts (threshold, coupons) are
allocated to lines in proportion to what each line costs at that point, by largest remainder in
minor units: the lines' final amounts always sum exactly to the order total.

Stacking (documented in docs/pricing.md):
- member prices replace the list price of purchased units when lower;
- every gift promotion whose buy SKU is on the order adds its gift units (at list price, taken
  off again by a `gift` adjustment, so they are reserved and shipped like any unit);
- threshold promotions do not stack with each other: the one worth the most applies, on the
  amount after member prices;
- at most one coupon, on the amount after the threshold discount; its minimum spend is checked
  against that amount too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from surge_platform import errors

from surge_order.domain.order import CatalogItem, LineRequest, PricedLine, Pricing
from surge_order.domain.promotions import Promotion, PromotionKind

__all__ = [
    "Adjustment",
    "LinePricing",
    "Quote",
    "allocate",
    "coupon_violation",
    "price_order",
    "undiscounted",
]

MEMBER_PRICE = "member_price"
GIFT = "gift"


@dataclass(frozen=True)
class Adjustment:
    kind: str
    promotion_id: str
    code: str
    amount_minor: int


@dataclass(frozen=True)
class LinePricing:
    sku: str
    quantity: int  # gift units included
    gift_quantity: int
    list_unit_price_minor: int
    adjustments: tuple[Adjustment, ...]

    @property
    def list_amount_minor(self) -> int:
        return self.quantity * self.list_unit_price_minor

    @property
    def discount_minor(self) -> int:
        return sum(a.amount_minor for a in self.adjustments)

    @property
    def final_minor(self) -> int:
        return self.list_amount_minor - self.discount_minor


@dataclass(frozen=True)
class Quote:
    """A priced order: the lines as stored on the order, and how each was priced."""

    pricing: Pricing
    breakdown: tuple[LinePricing, ...]
    coupon: Promotion | None = None

    @property
    def discounted(self) -> bool:
        return any(line.adjustments for line in self.breakdown)


@dataclass
class _Line:
    sku: str
    name: str
    unit: int
    weight: int
    quantity: int
    gift_quantity: int = 0
    adjustments: list[Adjustment] = field(default_factory=list)

    @property
    def amount(self) -> int:
        return self.quantity * self.unit - sum(a.amount_minor for a in self.adjustments)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` over `weights` proportionally, in whole units, summing exactly to `total`.

    Largest remainder (Hamilton): everyone gets the floor of their exact share, and the units
    left over go to the largest fractional parts (ties: earlier first). A share never exceeds its
    weight while `total` <= sum(weights), so no line goes below zero.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate needs a non-negative total and weights")
    whole = sum(weights)
    if total == 0 or whole == 0:
        if total:
            raise ValueError("nothing to allocate a non-zero total over")
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    left = total - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[i] += 1
    return shares


def _spread(lines: list[_Line], amount: int, kind: str, promotion: Promotion) -> None:
    shares = allocate(amount, [line.amount for line in lines])
    for line, share in zip(lines, shares, strict=True):
        if share:
            line.adjustments.append(Adjustment(kind, promotion.id, promotion.code, share))


def coupon_violation(coupon: Promotion, spend: int, at: datetime, customer_uses: int) -> str | None:
    """Why `coupon` cannot apply to an order worth `spend`, or None."""
    if not coupon.active:
        return "is no longer valid"
    if not coupon.in_window(at):
        return "is not valid at this time"
    if coupon.usage_limit and coupon.used >= coupon.usage_limit:
        return "has been used up"
    if coupon.per_customer_limit and customer_uses >= coupon.per_customer_limit:
        return "was already used the allowed number of times by this customer"
    if spend < coupon.min_spend_minor:
        return f"needs a minimum spend of {coupon.min_spend_minor} (order is {spend})"
    return None


def _threshold_discount(p: Promotion, spend: int) -> int:
    steps = spend // p.threshold_minor if p.repeat else int(spend >= p.threshold_minor)
    return min(steps * p.amount_minor, spend)


def price_order(
    lines: Sequence[LineRequest],
    catalog: Mapping[str, CatalogItem],
    *,
    at: datetime,
    tier: str = "",
    member_prices: Mapping[str, int] | None = None,
    promotions: Sequence[Promotion] = (),
    coupon: Promotion | None = None,
    coupon_customer_uses: int = 0,
) -> Quote:
    """Price valid lines. `promotions` are the automatic ones (threshold, gift); a coupon that
    cannot apply raises InvalidArgument on `coupon_code` (the order is rejected, never silently
    placed without the discount the customer asked for)."""
    member_prices = member_prices or {}
    currency = catalog[lines[0].sku].currency
    work: dict[str, _Line] = {}
    for request in lines:
        item = catalog[request.sku]
        line = _Line(
            item.sku, item.name, item.unit_price_minor, item.weight_grams, request.quantity
        )
        member = member_prices.get(item.sku)
        if member is not None and 0 <= member < item.unit_price_minor:
            saving = (item.unit_price_minor - member) * request.quantity
            line.adjustments.append(Adjustment(MEMBER_PRICE, "", tier, saving))
        work[item.sku] = line

    live = sorted((p for p in promotions if p.applies_at(at)), key=lambda p: p.id)
    for gift in (p for p in live if p.kind is PromotionKind.GIFT):
        bought = work.get(gift.buy_sku)
        gift_item = catalog.get(gift.gift_sku)
        # A withdrawn gift SKU (or one priced in another currency) is skipped, not an error:
        # the customer ordered what they ordered.
        if (
            bought is None
            or gift_item is None
            or not gift_item.active
            or gift_item.currency != currency
        ):
            continue
        bought_units = bought.quantity - bought.gift_quantity
        units = bought_units // gift.buy_quantity * gift.gift_quantity
        if units <= 0:
            continue
        target = work.get(gift_item.sku)
        if target is None:
            target = _Line(
                gift_item.sku, gift_item.name, gift_item.unit_price_minor, gift_item.weight_grams, 0
            )
            work[gift_item.sku] = target
        target.quantity += units
        target.gift_quantity += units
        target.adjustments.append(Adjustment(GIFT, gift.id, "", units * target.unit))

    ordered = list(work.values())
    spend = sum(line.amount for line in ordered)
    thresholds = [
        (_threshold_discount(p, spend), p) for p in live if p.kind is PromotionKind.THRESHOLD
    ]
    best = max(thresholds, key=lambda t: t[0], default=None)  # first (lowest id) wins ties
    if best is not None and best[0] > 0:
        _spread(ordered, best[0], PromotionKind.THRESHOLD.value, best[1])
        spend -= best[0]

    if coupon is not None:
        problem = coupon_violation(coupon, spend, at, coupon_customer_uses)
        if problem is not None:
            raise errors.InvalidArgument(
                f"coupon {coupon.code} {problem}", {"coupon_code": problem}
            )
        if coupon.kind is PromotionKind.PERCENT_COUPON:
            # Rounded down: a percentage never takes off more than it says.
            off = spend * coupon.percent // 100
        else:
            off = min(coupon.amount_minor, spend)
        if off > 0:
            _spread(ordered, off, coupon.kind.value, coupon)

    breakdown = tuple(
        LinePricing(line.sku, line.quantity, line.gift_quantity, line.unit, tuple(line.adjustments))
        for line in ordered
    )
    priced = tuple(
        PricedLine(
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price_minor=line.unit,
            discount_minor=b.discount_minor,
            total_minor=b.final_minor,
            weight_grams=line.weight,
        )
        for line, b in zip(ordered, breakdown, strict=True)
    )
    subtotal = sum(b.list_amount_minor for b in breakdown)
    discount = sum(b.discount_minor for b in breakdown)
    pricing = Pricing(priced, currency, subtotal, discount, subtotal - discount)
    return Quote(pricing, breakdown, coupon)


def undiscounted(lines: Sequence[PricedLine]) -> tuple[LinePricing, ...]:
    """The breakdown of lines priced without any adjustment (how such orders are stored)."""
    return tuple(
        LinePricing(line.sku, line.quantity, 0, line.unit_price_minor, ()) for line in lines
    )
