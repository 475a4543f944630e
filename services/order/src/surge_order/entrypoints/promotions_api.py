"""PromotionService over gRPC: protobuf <-> domain, then the handler; nothing else.

Every change is one line on the `surge.audit` logger, like the order service's operator actions.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.order.v1 import promotions_pb2, promotions_pb2_grpc
from surge_platform import errors
from surge_platform.logging import get_logger

from surge_order.domain.pricing import LinePricing
from surge_order.domain.promotions import MemberPrice, Promotion, PromotionKind, PurchaseLimit
from surge_order.service_layer import promotions
from surge_order.service_layer.ports import Catalog, CatalogUnavailable

__all__ = ["PromotionServicer", "line_pricing_to_pb", "promotion_from_pb", "promotion_to_pb"]

Context = grpc.aio.ServicerContext[Any, Any]
_Save = Callable[[Promotion, Catalog, promotions.UowFactory], Awaitable[Promotion]]
_audit = get_logger("surge.audit")


def _ts(at: datetime | None) -> Timestamp | None:
    if at is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def _at(message: Any, name: str) -> datetime | None:
    return getattr(message, name).ToDatetime(UTC) if message.HasField(name) else None


def _kind(value: int) -> PromotionKind | None:
    if value == promotions_pb2.PROMOTION_KIND_UNSPECIFIED:
        return None
    try:
        name = promotions_pb2.PromotionKind.Name(value)
    except ValueError:
        return None
    return PromotionKind(name.removeprefix("PROMOTION_KIND_").lower())


def promotion_from_pb(p: promotions_pb2.Promotion) -> Promotion:
    kind = _kind(p.kind)
    if kind is None:
        raise errors.InvalidArgument(
            "the promotion is not valid",
            {"kind": "must be percent_coupon, fixed_coupon, threshold or gift"},
        )
    return Promotion(
        id=p.id,
        name=p.name,
        kind=kind,
        active=p.active,
        starts_at=_at(p, "starts_at"),
        ends_at=_at(p, "ends_at"),
        code=p.code,
        percent=p.percent,
        amount_minor=p.amount_minor,
        min_spend_minor=p.min_spend_minor,
        threshold_minor=p.threshold_minor,
        repeat=p.repeat,
        usage_limit=p.usage_limit,
        per_customer_limit=p.per_customer_limit,
        buy_sku=p.buy_sku,
        buy_quantity=p.buy_quantity,
        gift_sku=p.gift_sku,
        gift_quantity=p.gift_quantity,
    )


def promotion_to_pb(p: Promotion) -> promotions_pb2.Promotion:
    return promotions_pb2.Promotion(
        id=p.id,
        name=p.name,
        kind=f"PROMOTION_KIND_{p.kind.value.upper()}",
        active=p.active,
        starts_at=_ts(p.starts_at),
        ends_at=_ts(p.ends_at),
        code=p.code,
        percent=p.percent,
        amount_minor=p.amount_minor,
        min_spend_minor=p.min_spend_minor,
        threshold_minor=p.threshold_minor,
        repeat=p.repeat,
        usage_limit=p.usage_limit,
        per_customer_limit=p.per_customer_limit,
        used=p.used,
        buy_sku=p.buy_sku,
        buy_quantity=p.buy_quantity,
        gift_sku=p.gift_sku,
        gift_quantity=p.gift_quantity,
        created_at=_ts(p.created_at),
        updated_at=_ts(p.updated_at),
    )


def line_pricing_to_pb(
    lines: tuple[LinePricing, ...], currency: str
) -> list[promotions_pb2.OrderLinePricing]:
    def money(amount: int) -> common_pb2.Money:
        return common_pb2.Money(amount_minor=amount, currency=currency)

    return [
        promotions_pb2.OrderLinePricing(
            sku=line.sku,
            quantity=line.quantity,
            gift_quantity=line.gift_quantity,
            list_unit_price=money(line.list_unit_price_minor),
            list_amount=money(line.list_amount_minor),
            adjustments=[
                promotions_pb2.PriceAdjustment(
                    kind=a.kind,
                    promotion_id=a.promotion_id,
                    code=a.code,
                    amount=money(a.amount_minor),
                )
                for a in line.adjustments
            ],
            final_amount=money(line.final_minor),
        )
        for line in lines
    ]


def _member_price_pb(price: MemberPrice) -> promotions_pb2.MemberPrice:
    return promotions_pb2.MemberPrice(
        tier=price.tier, sku=price.sku, unit_price_minor=price.unit_price_minor
    )


class PromotionServicer(promotions_pb2_grpc.PromotionServiceServicer):
    def __init__(
        self,
        uows: promotions.UowFactory,
        catalog: Catalog,
        pricing: promotions.PricingCache | None = None,
    ) -> None:
        self._uows = uows
        self._catalog = catalog
        self._pricing = pricing

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """A change of what placement caches (`PricingCache`): this replica's next order reads
        it again (whether or not the change went through)."""
        try:
            yield
        finally:
            if self._pricing is not None:
                self._pricing.invalidate()

    async def _save(
        self,
        save: _Save,
        request: promotions_pb2.CreatePromotionRequest | promotions_pb2.UpdatePromotionRequest,
        action: str,
        context: Context,
    ) -> promotions_pb2.Promotion:
        with self._changing():
            async with _catalog_errors(context):
                saved = await save(promotion_from_pb(request.promotion), self._catalog, self._uows)
        _audit.info("audit", actor=request.actor, action=action, target=saved.id)
        return promotion_to_pb(saved)

    async def CreatePromotion(  # noqa: N802 - gRPC method name
        self, request: promotions_pb2.CreatePromotionRequest, context: Context
    ) -> promotions_pb2.CreatePromotionResponse:
        created = await self._save(
            promotions.create_promotion, request, "promotions.create", context
        )
        return promotions_pb2.CreatePromotionResponse(promotion=created)

    async def UpdatePromotion(  # noqa: N802
        self, request: promotions_pb2.UpdatePromotionRequest, context: Context
    ) -> promotions_pb2.UpdatePromotionResponse:
        stored = await self._save(
            promotions.update_promotion, request, "promotions.update", context
        )
        return promotions_pb2.UpdatePromotionResponse(promotion=stored)

    async def GetPromotion(  # noqa: N802
        self, request: promotions_pb2.GetPromotionRequest, context: Context
    ) -> promotions_pb2.GetPromotionResponse:
        found = await promotions.get_promotion(request.promotion_id, self._uows)
        return promotions_pb2.GetPromotionResponse(promotion=promotion_to_pb(found))

    async def ListPromotions(  # noqa: N802
        self, request: promotions_pb2.ListPromotionsRequest, context: Context
    ) -> promotions_pb2.ListPromotionsResponse:
        found = await promotions.list_promotions(
            _kind(request.kind), request.active_only, self._uows
        )
        return promotions_pb2.ListPromotionsResponse(promotions=[promotion_to_pb(p) for p in found])

    async def DeactivatePromotion(  # noqa: N802
        self, request: promotions_pb2.DeactivatePromotionRequest, context: Context
    ) -> promotions_pb2.DeactivatePromotionResponse:
        with self._changing():
            stored = await promotions.deactivate_promotion(request.promotion_id, self._uows)
        _audit.info("audit", actor=request.actor, action="promotions.deactivate", target=stored.id)
        return promotions_pb2.DeactivatePromotionResponse(promotion=promotion_to_pb(stored))

    async def SetCustomerTier(  # noqa: N802
        self, request: promotions_pb2.SetCustomerTierRequest, context: Context
    ) -> promotions_pb2.SetCustomerTierResponse:
        tier = await promotions.set_customer_tier(request.customer_id, request.tier, self._uows)
        return promotions_pb2.SetCustomerTierResponse(customer_id=request.customer_id, tier=tier)

    async def SetMemberPrice(  # noqa: N802
        self, request: promotions_pb2.SetMemberPriceRequest, context: Context
    ) -> promotions_pb2.SetMemberPriceResponse:
        m = request.member_price
        with self._changing():
            async with _catalog_errors(context):
                stored = await promotions.set_member_price(
                    MemberPrice(m.tier, m.sku, m.unit_price_minor), self._catalog, self._uows
                )
        return promotions_pb2.SetMemberPriceResponse(member_price=_member_price_pb(stored))

    async def ListMemberPrices(  # noqa: N802
        self, request: promotions_pb2.ListMemberPricesRequest, context: Context
    ) -> promotions_pb2.ListMemberPricesResponse:
        found = await promotions.list_member_prices(request.tier, self._uows)
        return promotions_pb2.ListMemberPricesResponse(
            member_prices=[_member_price_pb(p) for p in found]
        )

    async def SetPurchaseLimit(  # noqa: N802
        self, request: promotions_pb2.SetPurchaseLimitRequest, context: Context
    ) -> promotions_pb2.SetPurchaseLimitResponse:
        limit = request.purchase_limit
        with self._changing():
            async with _catalog_errors(context):
                stored = await promotions.set_purchase_limit(
                    PurchaseLimit(limit.sku, limit.max_quantity), self._catalog, self._uows
                )
        return promotions_pb2.SetPurchaseLimitResponse(
            purchase_limit=promotions_pb2.PurchaseLimit(
                sku=stored.sku, max_quantity=stored.max_quantity
            )
        )

    async def ListPurchaseLimits(  # noqa: N802
        self, request: promotions_pb2.ListPurchaseLimitsRequest, context: Context
    ) -> promotions_pb2.ListPurchaseLimitsResponse:
        found = await promotions.list_purchase_limits(self._uows)
        return promotions_pb2.ListPurchaseLimitsResponse(
            purchase_limits=[
                promotions_pb2.PurchaseLimit(sku=p.sku, max_quantity=p.max_quantity) for p in found
            ]
        )


@contextlib.asynccontextmanager
async def _catalog_errors(context: Context) -> AsyncIterator[None]:
    """An unreachable catalog (SKU checks) is UNAVAILABLE: the caller may retry."""
    try:
        yield
    except CatalogUnavailable as exc:
        await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        raise  # unreachable: abort raises
