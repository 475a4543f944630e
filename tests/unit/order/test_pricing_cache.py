"""Placement's pricing cache: the customer-independent configuration, reused for a moment; an
order that needs a fact about its customer (coupon, member price, purchase limit) still reads
the whole context, and this replica's own changes are seen at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from surge_order.adapters.promotions_repository import PricingConfig
from surge_order.domain.promotions import Promotion, PromotionKind
from surge_order.service_layer.promotions import PricingCache

NOW = datetime(2026, 11, 11, 12, tzinfo=UTC)
LIVE = Promotion("p-live", "live", PromotionKind.THRESHOLD, threshold_minor=100, amount_minor=10)
LATER = Promotion("p-later", "later", PromotionKind.THRESHOLD, starts_at=NOW + timedelta(hours=1))
CONFIG = PricingConfig((LIVE, LATER), frozenset({"VIP"}), {"LIMITED": 2})


def test_an_order_of_plain_skus_without_coupon_is_priced_from_the_configuration_alone() -> None:
    ctx = CONFIG.context(["TEA", "CUP"], "", NOW)
    assert ctx is not None
    assert ctx.promotions == (LIVE,)  # only promotions live at the order's time
    assert (ctx.tier, dict(ctx.member_prices), ctx.coupon, dict(ctx.limits)) == ("", {}, None, {})


def test_a_coupon_a_member_priced_or_a_limited_sku_needs_the_customer() -> None:
    assert CONFIG.context(["TEA"], "SAVE10", NOW) is None
    assert CONFIG.context(["TEA", "VIP"], "", NOW) is None
    assert CONFIG.context(["LIMITED"], "", NOW) is None


class Reads:
    """A unit-of-work factory whose promotions repository counts config reads."""

    def __init__(self) -> None:
        self.count = 0
        self.during_read: Any = None

    def __call__(self) -> Any:
        reads = self

        class Uow:
            class promotions:  # noqa: N801 - stands in for the repository attribute
                @staticmethod
                async def config() -> PricingConfig:
                    reads.count += 1
                    if reads.during_read is not None:
                        reads.during_read()
                    return CONFIG

            async def __aenter__(self) -> Any:
                return self

            async def __aexit__(self, *exc: object) -> None:
                return None

        return Uow()


async def test_the_configuration_is_reused_for_its_seconds_and_dropped_on_a_change() -> None:
    now = [0.0]
    cache = PricingCache(2.0, clock=lambda: now[0])
    reads = Reads()
    assert await cache.get(reads) is CONFIG
    now[0] = 1.9
    await cache.get(reads)
    assert reads.count == 1
    now[0] = 2.0
    await cache.get(reads)
    assert reads.count == 2
    cache.invalidate()
    await cache.get(reads)
    assert reads.count == 3


async def test_a_read_overtaken_by_a_change_is_not_kept() -> None:
    cache = PricingCache(60.0, clock=lambda: 0.0)
    reads = Reads()
    reads.during_read = cache.invalidate  # a promotion changed while the config was read
    await cache.get(reads)
    reads.during_read = None
    await cache.get(reads)
    assert reads.count == 2
