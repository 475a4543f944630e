"""`/v1/promotions` (admin): coupons, threshold (满减) and gift promotions; and the admin routes
for customer tiers, member prices and per-customer purchase limits (flash sales).

A bad promotion (percent outside 1-100, negative amounts, a window ending before it starts, an
unknown gift SKU) is refused by the order service and answered as 422 with per-field errors.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from surge.order.v1 import promotions_pb2

from surge_gateway.api.deps import Downstreams, IdempotencyKey, Idempotent, run_once
from surge_gateway.auth import Principal, Role, allow
from surge_gateway.convert import timestamp, to_timestamp
from surge_gateway.idempotency import StoredResponse
from surge_gateway.promotion_schemas import (
    CustomerTier,
    MemberPriceIn,
    MemberPriceList,
    MemberPricePublic,
    PromotionCreate,
    PromotionKindName,
    PromotionList,
    PromotionPublic,
    PromotionUpdate,
    PurchaseLimitIn,
    PurchaseLimitList,
    PurchaseLimitPublic,
    TierIn,
)

__all__ = ["promotion_public", "router"]

router = APIRouter(tags=["promotions"])

Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]
PromotionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Name = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
CustomerId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
_TIMES = ("starts_at", "ends_at")


def _kind_value(name: str) -> int:
    return int(promotions_pb2.PromotionKind.Value("PROMOTION_KIND_" + name.upper()))


def promotion_public(p: promotions_pb2.Promotion) -> PromotionPublic:
    kind = promotions_pb2.PromotionKind.Name(p.kind).removeprefix("PROMOTION_KIND_").lower()
    return PromotionPublic(
        id=p.id,
        name=p.name,
        kind=None if kind == "unspecified" else kind,
        active=p.active,
        starts_at=timestamp(p.starts_at),
        ends_at=timestamp(p.ends_at),
        code=p.code or None,
        percent=p.percent,
        amount_minor=p.amount_minor,
        min_spend_minor=p.min_spend_minor,
        threshold_minor=p.threshold_minor,
        repeat=p.repeat,
        usage_limit=p.usage_limit,
        per_customer_limit=p.per_customer_limit,
        used=p.used,
        buy_sku=p.buy_sku or None,
        buy_quantity=p.buy_quantity,
        gift_sku=p.gift_sku or None,
        gift_quantity=p.gift_quantity,
        created_at=timestamp(p.created_at),
        updated_at=timestamp(p.updated_at),
    )


def _apply(message: promotions_pb2.Promotion, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name in _TIMES:
            message.ClearField(name)
            if value is not None:
                getattr(message, name).CopyFrom(to_timestamp(value))
        elif name == "kind":
            message.kind = _kind_value(value)  # type: ignore[assignment]
        else:
            setattr(message, name, value if value is not None else type(getattr(message, name))())


@router.post(
    "/v1/promotions",
    status_code=201,
    response_model=PromotionPublic,
    summary="Create a promotion or coupon (admin)",
)
async def create_promotion(
    body: PromotionCreate,
    request: Request,
    principal: Admin,
    key: IdempotencyKey,
    idempotency: Idempotent,
    down: Downstreams,
) -> Response:
    async def produce() -> StoredResponse:
        message = promotions_pb2.Promotion()
        _apply(message, body.model_dump())
        reply = await down.promotions.CreatePromotion(
            promotions_pb2.CreatePromotionRequest(promotion=message, actor=principal.subject),
            timeout=down.timeout,
        )
        public = promotion_public(reply.promotion)
        return StoredResponse(
            201, public.model_dump_json().encode(), {"Location": f"/v1/promotions/{public.id}"}
        )

    return await run_once(request, principal, key, idempotency, produce)


@router.get("/v1/promotions", response_model=PromotionList, summary="List promotions (admin)")
async def list_promotions(
    principal: Admin,
    down: Downstreams,
    kind: Annotated[PromotionKindName | None, Query()] = None,
    active_only: Annotated[bool, Query()] = False,
) -> PromotionList:
    reply = await down.promotions.ListPromotions(
        promotions_pb2.ListPromotionsRequest(
            kind=_kind_value(kind) if kind else 0,  # type: ignore[arg-type]
            active_only=active_only,
        ),
        timeout=down.timeout,
    )
    return PromotionList(items=[promotion_public(p) for p in reply.promotions])


@router.get(
    "/v1/promotions/{promotion_id}", response_model=PromotionPublic, summary="One promotion"
)
async def get_promotion(
    promotion_id: PromotionId, principal: Admin, down: Downstreams
) -> PromotionPublic:
    reply = await down.promotions.GetPromotion(
        promotions_pb2.GetPromotionRequest(promotion_id=promotion_id), timeout=down.timeout
    )
    return promotion_public(reply.promotion)


@router.patch(
    "/v1/promotions/{promotion_id}",
    response_model=PromotionPublic,
    summary="Change a promotion (admin); kind, code and usage count stay",
)
async def update_promotion(
    promotion_id: PromotionId, body: PromotionUpdate, principal: Admin, down: Downstreams
) -> PromotionPublic:
    current = await down.promotions.GetPromotion(
        promotions_pb2.GetPromotionRequest(promotion_id=promotion_id), timeout=down.timeout
    )
    message = promotions_pb2.Promotion()
    message.CopyFrom(current.promotion)
    _apply(message, body.model_dump(exclude_unset=True))
    reply = await down.promotions.UpdatePromotion(
        promotions_pb2.UpdatePromotionRequest(promotion=message, actor=principal.subject),
        timeout=down.timeout,
    )
    return promotion_public(reply.promotion)


@router.post(
    "/v1/promotions/{promotion_id}/deactivate",
    response_model=PromotionPublic,
    summary="Switch a promotion off (admin); placed orders keep their discount",
)
async def deactivate_promotion(
    promotion_id: PromotionId, principal: Admin, down: Downstreams
) -> PromotionPublic:
    reply = await down.promotions.DeactivatePromotion(
        promotions_pb2.DeactivatePromotionRequest(
            promotion_id=promotion_id, actor=principal.subject
        ),
        timeout=down.timeout,
    )
    return promotion_public(reply.promotion)


@router.put(
    "/v1/customers/{customer_id}/tier",
    response_model=CustomerTier,
    summary="Put a customer in a member tier (admin); empty tier removes it",
)
async def set_customer_tier(
    customer_id: CustomerId, body: TierIn, principal: Admin, down: Downstreams
) -> CustomerTier:
    reply = await down.promotions.SetCustomerTier(
        promotions_pb2.SetCustomerTierRequest(customer_id=customer_id, tier=body.tier),
        timeout=down.timeout,
    )
    return CustomerTier(customer_id=reply.customer_id, tier=reply.tier or None)


@router.get("/v1/member-prices", response_model=MemberPriceList, summary="Member prices (admin)")
async def list_member_prices(
    principal: Admin,
    down: Downstreams,
    tier: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = "",
) -> MemberPriceList:
    reply = await down.promotions.ListMemberPrices(
        promotions_pb2.ListMemberPricesRequest(tier=tier), timeout=down.timeout
    )
    return MemberPriceList(
        items=[
            MemberPricePublic(tier=m.tier, sku=m.sku, unit_price_minor=m.unit_price_minor)
            for m in reply.member_prices
        ]
    )


async def _set_member_price(down: Any, tier: str, sku: str, price: int) -> MemberPricePublic:
    reply = await down.promotions.SetMemberPrice(
        promotions_pb2.SetMemberPriceRequest(
            member_price=promotions_pb2.MemberPrice(tier=tier, sku=sku, unit_price_minor=price)
        ),
        timeout=down.timeout,
    )
    m = reply.member_price
    return MemberPricePublic(tier=m.tier, sku=m.sku, unit_price_minor=m.unit_price_minor)


@router.put(
    "/v1/member-prices/{tier}/{sku}",
    response_model=MemberPricePublic,
    summary="Set a SKU's member price for a tier (admin)",
)
async def set_member_price(
    tier: Name, sku: SkuPath, body: MemberPriceIn, principal: Admin, down: Downstreams
) -> MemberPricePublic:
    return await _set_member_price(down, tier, sku, body.unit_price_minor)


@router.delete(
    "/v1/member-prices/{tier}/{sku}", status_code=204, summary="Remove a member price (admin)"
)
async def delete_member_price(
    tier: Name, sku: SkuPath, principal: Admin, down: Downstreams
) -> Response:
    await _set_member_price(down, tier, sku, 0)
    return Response(status_code=204)


@router.get(
    "/v1/purchase-limits", response_model=PurchaseLimitList, summary="Purchase limits (admin)"
)
async def list_purchase_limits(principal: Admin, down: Downstreams) -> PurchaseLimitList:
    reply = await down.promotions.ListPurchaseLimits(
        promotions_pb2.ListPurchaseLimitsRequest(), timeout=down.timeout
    )
    return PurchaseLimitList(
        items=[
            PurchaseLimitPublic(sku=p.sku, max_quantity=p.max_quantity)
            for p in reply.purchase_limits
        ]
    )


async def _set_limit(down: Any, sku: str, quantity: int) -> PurchaseLimitPublic:
    reply = await down.promotions.SetPurchaseLimit(
        promotions_pb2.SetPurchaseLimitRequest(
            purchase_limit=promotions_pb2.PurchaseLimit(sku=sku, max_quantity=quantity)
        ),
        timeout=down.timeout,
    )
    limit = reply.purchase_limit
    return PurchaseLimitPublic(sku=limit.sku, max_quantity=limit.max_quantity)


@router.put(
    "/v1/purchase-limits/{sku}",
    response_model=PurchaseLimitPublic,
    summary="Limit the units of a SKU one customer may buy across all orders (admin)",
)
async def set_purchase_limit(
    sku: SkuPath, body: PurchaseLimitIn, principal: Admin, down: Downstreams
) -> PurchaseLimitPublic:
    return await _set_limit(down, sku, body.max_quantity)


@router.delete(
    "/v1/purchase-limits/{sku}", status_code=204, summary="Remove a purchase limit (admin)"
)
async def delete_purchase_limit(sku: SkuPath, principal: Admin, down: Downstreams) -> Response:
    await _set_limit(down, sku, 0)
    return Response(status_code=204)
