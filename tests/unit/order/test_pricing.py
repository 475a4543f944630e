"""The pricing pipeline: every promotion kind, their stacking, and exact sums in fen."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from surge_order.domain.order import CatalogItem, LineRequest
from surge_order.domain.pricing import Quote, allocate, price_order
from surge_order.domain.promotions import Promotion, PromotionKind, promotion_violations
from surge_platform import errors

NOW = datetime(2026, 11, 11, 12, tzinfo=UTC)
CATALOG = {
    "TEA": CatalogItem("TEA", "Longjing", 1999, "CNY", 250, True),
    "CUP": CatalogItem("CUP", "Cup", 333, "CNY", 100, True),
    "PEN": CatalogItem("PEN", "Pen", 101, "CNY", 10, True),
    "BAG": CatalogItem("BAG", "Gift bag", 800, "CNY", 50, True),
    "OLD": CatalogItem("OLD", "Withdrawn", 800, "CNY", 50, False),
}


def promo(kind: PromotionKind, **kw: Any) -> Promotion:
    return Promotion(id=kw.pop("id", f"p-{kind.value}"), name="p", kind=kind, **kw)


def lines(**quantities: int) -> list[LineRequest]:
    return [LineRequest(sku, q) for sku, q in quantities.items()]


def assert_consistent(quote: Quote) -> None:
    p = quote.pricing
    assert sum(line.total_minor for line in p.lines) == p.total_minor
    assert sum(line.discount_minor for line in p.lines) == p.discount_minor
    assert p.subtotal_minor - p.discount_minor == p.total_minor
    for line, b in zip(p.lines, quote.breakdown, strict=True):
        assert b.final_minor == line.total_minor >= 0
        assert b.list_amount_minor - sum(a.amount_minor for a in b.adjustments) == b.final_minor
        assert all(a.amount_minor > 0 for a in b.adjustments)


def test_list_prices_only_without_promotions() -> None:
    quote = price_order(lines(TEA=2, CUP=1), CATALOG, at=NOW)
    assert quote.pricing.total_minor == 2 * 1999 + 333
    assert not quote.discounted
    assert_consistent(quote)


def test_member_price_applies_only_when_lower_than_the_list_price() -> None:
    quote = price_order(
        lines(TEA=2, CUP=1),
        CATALOG,
        at=NOW,
        tier="gold",
        member_prices={"TEA": 1799, "CUP": 400},
    )
    tea, cup = quote.breakdown
    assert [(a.kind, a.code, a.amount_minor) for a in tea.adjustments] == [
        ("member_price", "gold", 400)
    ]
    assert cup.adjustments == ()
    assert quote.pricing.total_minor == 2 * 1799 + 333
    assert_consistent(quote)


def test_percent_coupon_is_allocated_with_largest_remainder() -> None:
    coupon = promo(PromotionKind.PERCENT_COUPON, code="TEN", percent=10)
    quote = price_order(lines(TEA=1, CUP=1, PEN=1), CATALOG, at=NOW, coupon=coupon)
    # 10% of 2433 = 243.3 -> 243 (rounded down), split over 1999/333/101.
    assert quote.pricing.discount_minor == 243
    shares = [b.discount_minor for b in quote.breakdown]
    assert shares == [200, 33, 10]
    assert quote.breakdown[0].adjustments[0].code == "TEN"
    assert_consistent(quote)


def test_fixed_coupon_never_takes_more_than_the_order() -> None:
    coupon = promo(PromotionKind.FIXED_COUPON, code="BIG", amount_minor=100_000)
    quote = price_order(lines(PEN=2), CATALOG, at=NOW, coupon=coupon)
    assert quote.pricing.total_minor == 0
    assert_consistent(quote)


@pytest.mark.parametrize(
    ("coupon", "uses", "problem"),
    [
        ({"active": False}, 0, "is no longer valid"),
        ({"starts_at": NOW + timedelta(hours=1)}, 0, "is not valid at this time"),
        ({"ends_at": NOW}, 0, "is not valid at this time"),
        ({"usage_limit": 5, "used": 5}, 0, "has been used up"),
        ({"per_customer_limit": 1}, 1, "was already used"),
        ({"min_spend_minor": 10_000}, 0, "needs a minimum spend of 10000"),
    ],
)
def test_a_coupon_that_cannot_apply_rejects_the_order(
    coupon: dict[str, Any], uses: int, problem: str
) -> None:
    bad = promo(PromotionKind.FIXED_COUPON, code="X", amount_minor=100, **coupon)
    with pytest.raises(errors.InvalidArgument) as refused:
        price_order(lines(TEA=1), CATALOG, at=NOW, coupon=bad, coupon_customer_uses=uses)
    assert problem in refused.value.field_violations["coupon_code"]


def test_threshold_discount_repeats_per_threshold_and_the_best_one_wins() -> None:
    every_300 = promo(
        PromotionKind.THRESHOLD, id="a", threshold_minor=30_000, amount_minor=5_000, repeat=True
    )
    once_500 = promo(PromotionKind.THRESHOLD, id="b", threshold_minor=50_000, amount_minor=6_000)
    # 35 x 1999 = 69965: every_300 -> 2 x 5000 = 10000; once_500 -> 6000.
    quote = price_order(lines(TEA=35), CATALOG, at=NOW, promotions=[every_300, once_500])
    assert quote.pricing.discount_minor == 10_000
    assert {a.promotion_id for b in quote.breakdown for a in b.adjustments} == {"a"}
    assert_consistent(quote)


def test_threshold_below_the_threshold_gives_nothing_and_expired_ones_are_ignored() -> None:
    t = promo(PromotionKind.THRESHOLD, threshold_minor=30_000, amount_minor=5_000, repeat=True)
    expired = promo(
        PromotionKind.THRESHOLD,
        id="old",
        threshold_minor=100,
        amount_minor=50,
        ends_at=NOW - timedelta(days=1),
    )
    quote = price_order(lines(TEA=1), CATALOG, at=NOW, promotions=[t, expired])
    assert quote.pricing.discount_minor == 0


def test_coupon_stacks_after_threshold_and_member_price() -> None:
    threshold = promo(
        PromotionKind.THRESHOLD, threshold_minor=5_000, amount_minor=1_000, repeat=True
    )
    coupon = promo(PromotionKind.PERCENT_COUPON, code="P", percent=15, min_spend_minor=9_000)
    after_member = 5 * 1899 + 3 * 333  # 10494
    after_threshold = after_member - 2 * 1_000  # 8494: below the coupon's minimum spend?
    assert after_threshold < 9_000
    with pytest.raises(errors.InvalidArgument):
        price_order(
            lines(TEA=5, CUP=3),
            CATALOG,
            at=NOW,
            member_prices={"TEA": 1899},
            promotions=[threshold],
            coupon=coupon,
        )
    ok = promo(PromotionKind.PERCENT_COUPON, code="P", percent=15, min_spend_minor=8_000)
    quote = price_order(
        lines(TEA=5, CUP=3),
        CATALOG,
        at=NOW,
        tier="vip",
        member_prices={"TEA": 1899},
        promotions=[threshold],
        coupon=ok,
    )
    assert quote.pricing.total_minor == after_threshold - after_threshold * 15 // 100
    kinds = [a.kind for a in quote.breakdown[0].adjustments]
    assert kinds == ["member_price", "threshold", "percent_coupon"]
    assert_consistent(quote)


def test_buy_x_get_y_adds_a_free_gift_line() -> None:
    gift = promo(PromotionKind.GIFT, buy_sku="TEA", buy_quantity=2, gift_sku="BAG", gift_quantity=1)
    quote = price_order(lines(TEA=5), CATALOG, at=NOW, promotions=[gift])
    tea, bag = quote.pricing.lines
    assert (bag.sku, bag.quantity, bag.unit_price_minor, bag.total_minor) == ("BAG", 2, 800, 0)
    assert quote.breakdown[1].gift_quantity == 2
    assert quote.pricing.total_minor == 5 * 1999
    assert tea.discount_minor == 0
    assert_consistent(quote)


def test_a_gift_of_an_ordered_sku_joins_its_line_and_gets_no_share_of_discounts() -> None:
    gift = promo(PromotionKind.GIFT, buy_sku="CUP", buy_quantity=3, gift_sku="CUP", gift_quantity=1)
    coupon = promo(PromotionKind.FIXED_COUPON, code="F", amount_minor=500)
    quote = price_order(lines(CUP=6, TEA=1), CATALOG, at=NOW, promotions=[gift], coupon=coupon)
    cup = quote.breakdown[0]
    assert (cup.quantity, cup.gift_quantity) == (8, 2)
    assert quote.pricing.total_minor == 6 * 333 + 1999 - 500
    assert_consistent(quote)


def test_a_withdrawn_gift_sku_is_skipped() -> None:
    gift = promo(PromotionKind.GIFT, buy_sku="TEA", buy_quantity=1, gift_sku="OLD", gift_quantity=1)
    quote = price_order(lines(TEA=1), CATALOG, at=NOW, promotions=[gift])
    assert [line.sku for line in quote.pricing.lines] == ["TEA"]


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (2, [1, 1, 1], [1, 1, 0]),
        (1, [0, 5, 5], [0, 1, 0]),
        (10, [3, 3, 4], [3, 3, 4]),
        (7, [1, 2, 3, 4], [1, 1, 2, 3]),
        (0, [5, 5], [0, 0]),
        (999, [1_000_000_007, 3, 1], [999, 0, 0]),
    ],
)
def test_largest_remainder_allocation(total: int, weights: list[int], expected: list[int]) -> None:
    assert allocate(total, weights) == expected


def test_allocation_always_sums_exactly_and_never_exceeds_a_weight() -> None:
    rng = random.Random(20261111)
    for _ in range(2_000):
        weights = [rng.choice([0, 1, 7, 99, 333, 1999, 10**9]) for _ in range(rng.randint(1, 8))]
        whole = sum(weights)
        total = rng.randint(0, whole) if whole else 0
        shares = allocate(total, weights)
        assert sum(shares) == total
        assert all(0 <= s <= w for s, w in zip(shares, weights, strict=True))


def test_awkward_rounding_through_the_whole_pipeline_sums_to_the_fen() -> None:
    rng = random.Random(7)
    for _ in range(300):
        chosen = rng.sample(["TEA", "CUP", "PEN", "BAG"], rng.randint(1, 4))
        order = [LineRequest(sku, rng.randint(1, 7)) for sku in chosen]
        coupon = promo(PromotionKind.PERCENT_COUPON, code="C", percent=rng.randint(1, 100))
        threshold = promo(
            PromotionKind.THRESHOLD,
            threshold_minor=rng.randint(100, 3000),
            amount_minor=97,
            repeat=True,
        )
        quote = price_order(
            order,
            CATALOG,
            at=NOW,
            member_prices={"CUP": 331},
            promotions=[threshold],
            coupon=coupon,
        )
        assert_consistent(quote)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": PromotionKind.PERCENT_COUPON, "code": "A", "percent": 0}, "percent"),
        ({"kind": PromotionKind.PERCENT_COUPON, "code": "A", "percent": 101}, "percent"),
        ({"kind": PromotionKind.FIXED_COUPON, "code": "A", "amount_minor": -1}, "amount_minor"),
        ({"kind": PromotionKind.FIXED_COUPON, "amount_minor": 100}, "code"),
        (
            {
                "kind": PromotionKind.FIXED_COUPON,
                "code": "A",
                "amount_minor": 1,
                "starts_at": NOW,
                "ends_at": NOW - timedelta(seconds=1),
            },
            "ends_at",
        ),
        (
            {"kind": PromotionKind.THRESHOLD, "threshold_minor": 100, "amount_minor": 200},
            "amount_minor",
        ),
        ({"kind": PromotionKind.GIFT, "buy_sku": "TEA", "buy_quantity": 1}, "gift_sku"),
        (
            {"kind": PromotionKind.THRESHOLD, "code": "A", "threshold_minor": 1, "amount_minor": 1},
            "code",
        ),
    ],
)
def test_bad_promotions_are_named_field_by_field(changes: dict[str, Any], field: str) -> None:
    kind = changes.pop("kind")
    assert field in promotion_violations(promo(kind, **changes))


def test_a_good_promotion_has_no_violations() -> None:
    assert not promotion_violations(
        promo(PromotionKind.PERCENT_COUPON, code="D11", percent=20, usage_limit=100)
    )
