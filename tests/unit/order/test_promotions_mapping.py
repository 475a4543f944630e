"""PromotionService protobuf <-> domain translation, and the breakdown on the order message."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from surge.order.v1 import promotions_pb2
from surge_order.domain.pricing import Adjustment, LinePricing
from surge_order.domain.promotions import Promotion, PromotionKind
from surge_order.entrypoints.promotions_api import (
    line_pricing_to_pb,
    promotion_from_pb,
    promotion_to_pb,
)
from surge_platform import errors


def test_a_promotion_survives_the_round_trip() -> None:
    promotion = Promotion(
        id="p-1",
        name="Double 11",
        kind=PromotionKind.THRESHOLD,
        starts_at=datetime(2026, 11, 11, tzinfo=UTC),
        ends_at=datetime(2026, 11, 12, tzinfo=UTC),
        threshold_minor=30_000,
        amount_minor=5_000,
        repeat=True,
    )
    assert promotion_from_pb(promotion_to_pb(promotion)) == promotion
    open_ended = replace(promotion, starts_at=None, ends_at=None)
    assert promotion_from_pb(promotion_to_pb(open_ended)) == open_ended


def test_a_promotion_without_a_kind_is_invalid() -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        promotion_from_pb(promotions_pb2.Promotion(name="x"))
    assert "kind" in refused.value.field_violations


def test_the_breakdown_carries_every_adjustment_in_the_order_currency() -> None:
    line = LinePricing(
        "TEA",
        3,
        1,
        1999,
        (Adjustment("gift", "p-2", "", 1999), Adjustment("fixed_coupon", "p-3", "F", 7)),
    )
    (message,) = line_pricing_to_pb((line,), "CNY")
    assert (message.quantity, message.gift_quantity) == (3, 1)
    assert message.list_amount.amount_minor == 5997
    assert [(a.kind, a.amount.amount_minor) for a in message.adjustments] == [
        ("gift", 1999),
        ("fixed_coupon", 7),
    ]
    assert message.final_amount.amount_minor == 5997 - 1999 - 7
    assert message.final_amount.currency == "CNY"
