"""A fake PromotionService stub for gateway unit tests: in memory, one promotion seeded
(`promo-1`), and the order service's validation of the fields the gateway tests exercise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from surge.order.v1 import promotions_pb2

from tests.unit.gateway.fakes import rpc_error

SEEDED = "promo-1"


def _seed() -> dict[str, promotions_pb2.Promotion]:
    promotion = promotions_pb2.Promotion(
        id=SEEDED,
        name="Double 11",
        kind=promotions_pb2.PROMOTION_KIND_PERCENT_COUPON,
        active=True,
        code="D11",
        percent=10,
        usage_limit=100,
    )
    promotion.created_at.GetCurrentTime()
    return {SEEDED: promotion}


@dataclass
class FakePromotions:
    promotions: dict[str, promotions_pb2.Promotion] = field(default_factory=_seed)
    tiers: dict[str, str] = field(default_factory=dict)
    member_prices: dict[tuple[str, str], int] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=lambda: {"TEA-1": 2})
    actors: list[str] = field(default_factory=list)
    create_calls: int = 0

    def _check(self, p: promotions_pb2.Promotion) -> None:
        problems: dict[str, str] = {}
        if p.kind == promotions_pb2.PROMOTION_KIND_PERCENT_COUPON and not 1 <= p.percent <= 100:
            problems["percent"] = "must be between 1 and 100"
        if p.amount_minor < 0:
            problems["amount_minor"] = "must not be negative"
        if (
            p.HasField("ends_at")
            and p.HasField("starts_at")
            and p.ends_at.seconds <= (p.starts_at.seconds)
        ):
            problems["ends_at"] = "must be after starts_at"
        if p.kind == promotions_pb2.PROMOTION_KIND_GIFT and p.gift_sku not in ("TEA-1", "CUP-1"):
            problems["gift_sku"] = f"unknown SKU {p.gift_sku!r}"
        if problems:
            raise rpc_error(
                grpc.StatusCode.INVALID_ARGUMENT, "the promotion is not valid", problems
            )

    def _get(self, promotion_id: str) -> promotions_pb2.Promotion:
        if promotion_id not in self.promotions:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, f"promotion {promotion_id} does not exist")
        return self.promotions[promotion_id]

    async def CreatePromotion(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.create_calls += 1
        self._check(request.promotion)
        promotion = promotions_pb2.Promotion()
        promotion.CopyFrom(request.promotion)
        promotion.id = f"promo-{len(self.promotions) + 1}"
        promotion.code = promotion.code.upper()
        self.promotions[promotion.id] = promotion
        self.actors.append(request.actor)
        return promotions_pb2.CreatePromotionResponse(promotion=promotion)

    async def UpdatePromotion(self, request: Any, timeout: float) -> Any:  # noqa: N802
        current = self._get(request.promotion.id)
        self._check(request.promotion)
        promotion = promotions_pb2.Promotion()
        promotion.CopyFrom(request.promotion)
        promotion.kind, promotion.code, promotion.used = current.kind, current.code, current.used
        self.promotions[promotion.id] = promotion
        return promotions_pb2.UpdatePromotionResponse(promotion=promotion)

    async def GetPromotion(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return promotions_pb2.GetPromotionResponse(promotion=self._get(request.promotion_id))

    async def ListPromotions(self, request: Any, timeout: float) -> Any:  # noqa: N802
        found = [
            p
            for p in self.promotions.values()
            if (not request.kind or p.kind == request.kind)
            and (p.active or not request.active_only)
        ]
        return promotions_pb2.ListPromotionsResponse(promotions=found)

    async def DeactivatePromotion(self, request: Any, timeout: float) -> Any:  # noqa: N802
        promotion = self._get(request.promotion_id)
        promotion.active = False
        return promotions_pb2.DeactivatePromotionResponse(promotion=promotion)

    async def SetCustomerTier(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.tiers[request.customer_id] = request.tier
        return promotions_pb2.SetCustomerTierResponse(
            customer_id=request.customer_id, tier=request.tier
        )

    async def SetMemberPrice(self, request: Any, timeout: float) -> Any:  # noqa: N802
        m = request.member_price
        self.member_prices[(m.tier, m.sku)] = m.unit_price_minor
        return promotions_pb2.SetMemberPriceResponse(member_price=m)

    async def ListMemberPrices(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return promotions_pb2.ListMemberPricesResponse(
            member_prices=[
                promotions_pb2.MemberPrice(tier=t, sku=s, unit_price_minor=p)
                for (t, s), p in sorted(self.member_prices.items())
                if p and (not request.tier or t == request.tier)
            ]
        )

    async def SetPurchaseLimit(self, request: Any, timeout: float) -> Any:  # noqa: N802
        limit = request.purchase_limit
        self.limits[limit.sku] = limit.max_quantity
        return promotions_pb2.SetPurchaseLimitResponse(purchase_limit=limit)

    async def ListPurchaseLimits(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return promotions_pb2.ListPurchaseLimitsResponse(
            purchase_limits=[
                promotions_pb2.PurchaseLimit(sku=s, max_quantity=m)
                for s, m in sorted(self.limits.items())
                if m
            ]
        )
