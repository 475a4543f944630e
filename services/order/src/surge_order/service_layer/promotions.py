"""Pricing an order at placement, redeeming what it uses, giving it back on cancellation; and
the admin handlers that manage promotions, tiers, member prices and purchase limits.

Placement is two halves. `quote` (before the order's transaction) reads the pricing context in
one statement and prices the order, so a bad coupon or a passed limit is told with no lock held.
`redeem` (inside the transaction that inserts the order) makes it true under concurrency: the
coupon's conditional UPDATE and the purchase counters' conditional upsert either succeed or
raise, which rolls the whole order back. `release` runs wherever an order becomes cancelled.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from surge_platform import errors
from surge_platform.ids import new_id

from surge_order.adapters.promotions_repository import PricingConfig
from surge_order.domain import commands
from surge_order.domain.model import Order
from surge_order.domain.order import CatalogItem
from surge_order.domain.pricing import LinePricing, Quote, price_order, undiscounted
from surge_order.domain.promotions import (
    MAX_AMOUNT_MINOR,
    MemberPrice,
    Promotion,
    PromotionKind,
    PurchaseLimit,
    normalise_code,
    promotion_violations,
)
from surge_order.service_layer.ports import Catalog
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = [
    "Placement",
    "PricingCache",
    "breakdown",
    "create_promotion",
    "deactivate_promotion",
    "get_promotion",
    "list_member_prices",
    "list_promotions",
    "list_purchase_limits",
    "quote",
    "redeem",
    "release",
    "set_customer_tier",
    "set_member_price",
    "set_purchase_limit",
    "update_promotion",
]

UowFactory = Callable[[], OrderUnitOfWork]
_NAME_MAX = 64


@dataclass(frozen=True)
class Placement:
    """An order priced for placement, and the limited units it takes per SKU."""

    quote: Quote
    limited: Mapping[str, int]
    line_index: Mapping[str, int]

    @property
    def redeems_nothing(self) -> bool:
        """True if `redeem` writes nothing for this order (no coupon, limit or discount)."""
        return self.quote.coupon is None and not self.limited and not self.quote.discounted


class PricingCache:
    """The customer-independent pricing configuration (`PricingConfig`), reused for `seconds`
    like the catalog cache: most orders then need no pricing read at all. This replica's own
    promotion changes drop it at once (`invalidate`); another replica's show within `seconds`.
    0 seconds: read the whole context for every order."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._config: PricingConfig | None = None
        self._read_at = 0.0
        self._generation = 0

    def invalidate(self) -> None:
        self._config = None
        self._generation += 1

    async def get(self, uows: UowFactory) -> PricingConfig:
        now = self._clock()
        if self._config is not None and now - self._read_at < self.seconds:
            return self._config
        generation = self._generation
        async with uows() as uow:
            config = await uow.promotions.config()
        if generation == self._generation:  # not changed here while it was read
            self._config, self._read_at = config, now
        return config


async def quote(
    cmd: commands.PlaceOrder,
    items: Mapping[str, CatalogItem],
    catalog: Catalog,
    uows: UowFactory,
    at: datetime,
    cache: PricingCache | None = None,
) -> Placement:
    code = normalise_code(cmd.coupon_code)
    skus = [line.sku for line in cmd.lines]
    ctx = None
    if cache is not None and cache.seconds > 0:
        ctx = (await cache.get(uows)).context(skus, code, at)
    if ctx is None:
        async with uows() as uow:
            ctx = await uow.promotions.context(cmd.customer.id, skus, code, at)
    if code and (ctx.coupon is None or not ctx.coupon.is_coupon):
        raise errors.InvalidArgument(
            f"coupon {code} does not exist", {"coupon_code": "is not a known coupon"}
        )
    problems: dict[str, str] = {}
    for i, line in enumerate(cmd.lines):
        limit = ctx.limits.get(line.sku)
        held = ctx.bought.get(line.sku, 0)
        if limit is not None and held + line.quantity > limit:
            problems[f"lines[{i}].quantity"] = _over_limit(line.sku, limit, held)
    if problems:
        raise errors.InvalidArgument("purchase limit reached", problems)
    gift_skus = {
        p.gift_sku for p in ctx.promotions if p.kind is PromotionKind.GIFT and p.buy_sku in skus
    }
    missing = gift_skus - set(items)
    if missing:
        items = {**items, **await catalog.skus(missing)}
    priced = price_order(
        cmd.lines,
        items,
        at=at,
        tier=ctx.tier,
        member_prices=ctx.member_prices,
        promotions=ctx.promotions,
        coupon=ctx.coupon,
        coupon_customer_uses=ctx.coupon_customer_uses,
    )
    return Placement(
        priced,
        {line.sku: line.quantity for line in cmd.lines if line.sku in ctx.limits},
        {line.sku: i for i, line in enumerate(cmd.lines)},
    )


def _over_limit(sku: str, limit: int, held: int) -> str:
    return f"at most {limit} units of {sku} per customer; {held} already ordered"


async def redeem(uow: OrderUnitOfWork, order: Order, placement: Placement) -> None:
    """Inside the order's transaction: count the coupon use and the limited units, store the
    breakdown. Raises InvalidArgument (and so rolls the order back) when either is exhausted."""
    coupon = placement.quote.coupon
    if coupon is not None:
        problem = await uow.promotions.redeem_coupon(
            coupon.id, order.id, order.customer.id, order.created_at
        )
        if problem is not None:
            raise errors.InvalidArgument(
                f"coupon {coupon.code} {problem}", {"coupon_code": problem}
            )
    if placement.limited:
        over = await uow.promotions.take_units(order.id, order.customer.id, placement.limited)
        if over:
            raise errors.InvalidArgument(
                "purchase limit reached",
                {
                    f"lines[{placement.line_index[sku]}].quantity": f"the purchase limit of {sku} "
                    "per customer was reached by other orders"
                    for sku in sorted(over)
                },
            )
    if placement.quote.discounted:
        await uow.promotions.save_breakdown(order.id, placement.quote.breakdown)


async def release(uow: OrderUnitOfWork, order_id: str, at: datetime) -> None:
    """The order was cancelled: its coupon use and limited units go back (idempotent)."""
    await uow.promotions.release(order_id, at)


async def breakdown(uow: OrderUnitOfWork, order: Order) -> tuple[LinePricing, ...]:
    stored = await uow.promotions.breakdown(order.id)
    return stored or undiscounted(order.lines)


# ---------------------------------------------------------------------- management


async def _check_skus(promotion: Promotion, catalog: Catalog) -> None:
    if promotion.kind is not PromotionKind.GIFT:
        return
    found = await catalog.skus({promotion.buy_sku, promotion.gift_sku})
    problems = {
        name: f"unknown SKU {sku!r}"
        for name, sku in (("buy_sku", promotion.buy_sku), ("gift_sku", promotion.gift_sku))
        if sku not in found
    }
    if problems:
        raise errors.InvalidArgument("the promotion is not valid", problems)


def _validated(promotion: Promotion) -> Promotion:
    promotion = replace(promotion, code=normalise_code(promotion.code))
    problems = promotion_violations(promotion)
    if problems:
        raise errors.InvalidArgument("the promotion is not valid", problems)
    return promotion


async def create_promotion(promotion: Promotion, catalog: Catalog, uows: UowFactory) -> Promotion:
    now = datetime.now(UTC)
    promotion = _validated(replace(promotion, id=new_id(), used=0, created_at=now, updated_at=now))
    await _check_skus(promotion, catalog)
    async with uows() as uow:
        if not await uow.promotions.add(promotion):
            raise errors.AlreadyExists(f"coupon code {promotion.code} is already in use")
        await uow.commit()
    return promotion


async def update_promotion(promotion: Promotion, catalog: Catalog, uows: UowFactory) -> Promotion:
    async with uows() as uow:
        current = await uow.promotions.get(_uuid(promotion.id))
        if current is None:
            raise errors.NotFound(f"promotion {promotion.id} does not exist")
        changed = _validated(
            replace(
                promotion,
                kind=current.kind,
                code=current.code,
                used=current.used,
                created_at=current.created_at,
                updated_at=datetime.now(UTC),
            )
        )
        if changed.usage_limit and changed.usage_limit < current.used:
            raise errors.InvalidArgument(
                "the promotion is not valid",
                {"usage_limit": f"must be at least the {current.used} uses already made"},
            )
        await _check_skus(changed, catalog)
        stored = await uow.promotions.update(changed)
        assert stored is not None
        await uow.commit()
    return stored


async def get_promotion(promotion_id: str, uows: UowFactory) -> Promotion:
    async with uows() as uow:
        found = await uow.promotions.get(_uuid(promotion_id))
    if found is None:
        raise errors.NotFound(f"promotion {promotion_id} does not exist")
    return found


async def list_promotions(
    kind: PromotionKind | None, active_only: bool, uows: UowFactory
) -> list[Promotion]:
    async with uows() as uow:
        return await uow.promotions.search(kind, active_only)


async def deactivate_promotion(promotion_id: str, uows: UowFactory) -> Promotion:
    async with uows() as uow:
        current = await uow.promotions.get(_uuid(promotion_id))
        if current is None:
            raise errors.NotFound(f"promotion {promotion_id} does not exist")
        stored = await uow.promotions.update(
            replace(current, active=False, updated_at=datetime.now(UTC))
        )
        assert stored is not None
        await uow.commit()
    return stored


def _name(value: str, field: str, *, required: bool = True) -> dict[str, str]:
    if not value.strip():
        return {field: "is required"} if required else {}
    if len(value) > _NAME_MAX or not value.replace("-", "").replace("_", "").isalnum():
        return {field: f"must be 1-{_NAME_MAX} letters, digits, '-' or '_'"}
    return {}


def _sku(sku: str) -> dict[str, str]:
    return {} if sku.strip() and len(sku) <= _NAME_MAX else {"sku": "must be 1-64 characters"}


async def set_customer_tier(customer_id: str, tier: str, uows: UowFactory) -> str:
    problems = _name(tier, "tier", required=False)
    if not customer_id.strip() or len(customer_id) > 128:
        problems["customer_id"] = "must be 1-128 characters"
    if problems:
        raise errors.InvalidArgument("the tier is not valid", problems)
    async with uows() as uow:
        await uow.promotions.set_tier(customer_id, tier, datetime.now(UTC))
        await uow.commit()
    return tier


async def _known_sku(sku: str, catalog: Catalog) -> None:
    if sku not in await catalog.skus([sku]):
        raise errors.InvalidArgument("unknown SKU", {"sku": f"unknown SKU {sku!r}"})


async def set_member_price(price: MemberPrice, catalog: Catalog, uows: UowFactory) -> MemberPrice:
    problems = {**_name(price.tier, "tier"), **_sku(price.sku)}
    if not 0 <= price.unit_price_minor <= MAX_AMOUNT_MINOR:
        problems["unit_price_minor"] = f"must be between 0 and {MAX_AMOUNT_MINOR}"
    if problems:
        raise errors.InvalidArgument("the member price is not valid", problems)
    if price.unit_price_minor:
        await _known_sku(price.sku, catalog)
    async with uows() as uow:
        await uow.promotions.set_member_price(price, datetime.now(UTC))
        await uow.commit()
    return price


async def list_member_prices(tier: str, uows: UowFactory) -> list[MemberPrice]:
    async with uows() as uow:
        return await uow.promotions.member_prices(tier)


async def set_purchase_limit(
    limit: PurchaseLimit, catalog: Catalog, uows: UowFactory
) -> PurchaseLimit:
    problems = _sku(limit.sku)
    if not 0 <= limit.max_quantity <= 1_000_000:
        problems["max_quantity"] = "must be between 0 (no limit) and 1000000"
    if problems:
        raise errors.InvalidArgument("the purchase limit is not valid", problems)
    if limit.max_quantity:
        await _known_sku(limit.sku, catalog)
    async with uows() as uow:
        await uow.promotions.set_purchase_limit(limit, datetime.now(UTC))
        await uow.commit()
    return limit


async def list_purchase_limits(uows: UowFactory) -> list[PurchaseLimit]:
    async with uows() as uow:
        return await uow.promotions.purchase_limits()


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.InvalidArgument(
            "bad promotion id", {"promotion_id": "must be a UUID"}
        ) from None
