"""Promotions, coupon redemptions, tiers, member prices, purchase limits and price breakdowns in
PostgreSQL (schema: migrations/versions/0003_pricing.py), on the unit of work's connection.

Placing an order reads everything pricing needs in one statement (`context`) and, inside the
order's transaction, redeems its coupon and takes its limited units with conditional writes that
concurrent orders serialise on (`redeem_coupon`, `take_units`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.raw import raw_fetchrow

from surge_order.domain.pricing import Adjustment, LinePricing
from surge_order.domain.promotions import MemberPrice, Promotion, PromotionKind, PurchaseLimit

__all__ = ["PricingConfig", "PricingContext", "PromotionRepository"]

_COLUMNS = tuple(f.name for f in fields(Promotion))
_TIMES = ("starts_at", "ends_at", "created_at", "updated_at")

_CONTEXT = text(
    "SELECT (SELECT tier FROM customer_tiers WHERE customer_id = :customer_id) AS tier, "
    "(SELECT coalesce(jsonb_object_agg(mp.sku, mp.unit_price_minor), '{}') FROM member_prices mp "
    " JOIN customer_tiers t ON t.tier = mp.tier WHERE t.customer_id = :customer_id "
    " AND mp.sku = ANY(CAST(:skus AS text[]))) AS member_prices, "
    "(SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]') FROM promotions p WHERE p.active "
    " AND p.code IS NULL AND (p.starts_at IS NULL OR p.starts_at <= :at) "
    " AND (p.ends_at IS NULL OR p.ends_at > :at)) AS promotions, "
    "(SELECT to_jsonb(p) FROM promotions p WHERE p.code = :code) AS coupon, "
    "(SELECT count(*) FROM coupon_redemptions r JOIN promotions p ON p.id = r.promotion_id "
    " WHERE p.code = :code AND r.customer_id = :customer_id AND r.returned_at IS NULL) "
    " AS coupon_uses, "
    "(SELECT coalesce(jsonb_object_agg(l.sku, l.max_quantity), '{}') FROM purchase_limits l "
    " WHERE l.sku = ANY(CAST(:skus AS text[]))) AS limits, "
    "(SELECT coalesce(jsonb_object_agg(c.sku, c.quantity), '{}') FROM purchase_counters c "
    " WHERE c.customer_id = :customer_id AND c.sku = ANY(CAST(:skus AS text[]))) AS bought"
)
# What pricing needs that is the same for every customer (cached by placement for a moment):
# the automatic promotions, which SKUs have any member price, and the purchase limits.
_CONFIG = text(
    "SELECT (SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]') FROM promotions p "
    " WHERE p.active AND p.code IS NULL) AS promotions, "
    "(SELECT coalesce(jsonb_agg(DISTINCT mp.sku), '[]') FROM member_prices mp) AS member_skus, "
    "(SELECT coalesce(jsonb_object_agg(l.sku, l.max_quantity), '{}') FROM purchase_limits l) "
    " AS limits"
)
# The row lock this UPDATE takes serialises every redemption of one coupon: a concurrent order
# waits, then re-checks `used < usage_limit` against the committed count.
_REDEEM = text(
    "UPDATE promotions SET used = used + 1 WHERE id = :id AND active "
    "AND (usage_limit = 0 OR used < usage_limit) RETURNING per_customer_limit"
)
# Runs while the coupon row is locked by _REDEEM, so the count cannot change underneath it.
_RECORD_REDEMPTION = text(
    "INSERT INTO coupon_redemptions (order_id, promotion_id, customer_id, redeemed_at) "
    "SELECT :order_id, :id, :customer_id, :at WHERE :limit = 0 OR (SELECT count(*) "
    "FROM coupon_redemptions WHERE promotion_id = :id AND customer_id = :customer_id "
    "AND returned_at IS NULL) < :limit RETURNING order_id"
)
# Conditional upsert: a new counter only if the quantity fits, an existing one only if the sum
# fits. Concurrent orders of one customer queue on the counter row (or its unique key) and
# each re-evaluates the condition against the committed quantity.
_TAKE_UNITS = text(
    "WITH x AS (SELECT * FROM unnest(CAST(:skus AS text[]), CAST(:quantities AS int[])) "
    " AS x(sku, quantity)), "
    "c AS (INSERT INTO purchase_counters AS pc (customer_id, sku, quantity) "
    " SELECT :customer_id, x.sku, x.quantity FROM x JOIN purchase_limits l ON l.sku = x.sku "
    " WHERE x.quantity <= l.max_quantity ORDER BY x.sku "
    " ON CONFLICT (customer_id, sku) DO UPDATE SET quantity = pc.quantity + EXCLUDED.quantity "
    " WHERE pc.quantity + EXCLUDED.quantity <= (SELECT max_quantity FROM purchase_limits "
    " WHERE sku = EXCLUDED.sku) RETURNING pc.sku), "
    "u AS (INSERT INTO purchase_limit_usage (order_id, sku, customer_id, quantity) "
    " SELECT :order_id, x.sku, :customer_id, x.quantity FROM x JOIN c ON c.sku = x.sku) "
    "SELECT sku FROM c"
)
_RELEASE = text(
    "WITH r AS (UPDATE coupon_redemptions SET returned_at = :at WHERE order_id = :order_id "
    " AND returned_at IS NULL RETURNING promotion_id), "
    "p AS (UPDATE promotions SET used = used - 1 FROM r WHERE promotions.id = r.promotion_id), "
    "u AS (DELETE FROM purchase_limit_usage WHERE order_id = :order_id "
    " RETURNING customer_id, sku, quantity) "
    "UPDATE purchase_counters c SET quantity = c.quantity - u.quantity FROM u "
    "WHERE c.customer_id = u.customer_id AND c.sku = u.sku"
)
_SAVE_BREAKDOWN = text(
    "INSERT INTO order_line_pricing (order_id, line_no, sku, quantity, gift_quantity, "
    "list_unit_price_minor, list_amount_minor, discount_minor, final_minor, adjustments) "
    "SELECT :order_id, x.n, x.sku, x.q, x.g, x.u, x.l, x.d, x.f, CAST(x.a AS jsonb) "
    "FROM unnest(CAST(:n AS int[]), CAST(:sku AS text[]), CAST(:q AS int[]), CAST(:g AS int[]), "
    "CAST(:u AS bigint[]), CAST(:l AS bigint[]), CAST(:d AS bigint[]), CAST(:f AS bigint[]), "
    "CAST(:a AS text[])) AS x(n, sku, q, g, u, l, d, f, a)"
)
_BREAKDOWN = text(
    "SELECT sku, quantity, gift_quantity, list_unit_price_minor, adjustments "
    "FROM order_line_pricing WHERE order_id = :order_id ORDER BY line_no"
)
_INSERT = text(
    f"INSERT INTO promotions ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) ON CONFLICT (code) DO NOTHING RETURNING id"
)
_EDITABLE = tuple(c for c in _COLUMNS if c not in ("id", "kind", "code", "used", "created_at"))
_UPDATE = text(
    f"UPDATE promotions SET {', '.join(f'{c} = :{c}' for c in _EDITABLE)} "
    "WHERE id = :id RETURNING *"
)


@dataclass(frozen=True)
class PricingContext:
    """What pricing one order needs from the database, read in one round trip."""

    tier: str
    member_prices: Mapping[str, int]
    promotions: tuple[Promotion, ...]
    coupon: Promotion | None
    coupon_customer_uses: int
    limits: Mapping[str, int]
    bought: Mapping[str, int]


@dataclass(frozen=True)
class PricingConfig:
    """The customer-independent part of the pricing context."""

    promotions: tuple[Promotion, ...]  # active automatic promotions, any window
    member_skus: frozenset[str]  # SKUs with a member price in some tier
    limits: Mapping[str, int]  # every purchase limit

    def context(self, skus: Sequence[str], coupon_code: str, at: datetime) -> PricingContext | None:
        """The whole context of an order that needs no fact about its customer (no coupon, no
        member-priced or limited SKU), or None when it does."""
        if coupon_code or any(s in self.member_skus or s in self.limits for s in skus):
            return None
        live = tuple(p for p in self.promotions if p.in_window(at))
        return PricingContext("", {}, live, None, 0, {}, {})


def _promotion(values: Any) -> Promotion:
    data = {name: values[name] for name in _COLUMNS}
    for name in _TIMES:
        if isinstance(data[name], str):
            data[name] = datetime.fromisoformat(data[name])
    data["id"] = str(data["id"])
    data["kind"] = PromotionKind(data["kind"])
    data["code"] = data["code"] or ""
    return Promotion(**data)


def _params(p: Promotion) -> dict[str, Any]:
    values = {name: getattr(p, name) for name in _COLUMNS}
    values["kind"] = p.kind.value
    values["code"] = p.code or None
    return values


class PromotionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # ------------------------------------------------------------------ placing an order

    async def context(
        self, customer_id: str, skus: Sequence[str], coupon_code: str, at: datetime
    ) -> PricingContext:
        """Read in a unit of work of its own before the order's transaction (hot: every order),
        so with no transaction of its own either (`begin=False`)."""
        row = await raw_fetchrow(
            self._connection,
            _CONTEXT,
            {"customer_id": customer_id, "skus": list(skus), "code": coupon_code, "at": at},
            begin=False,
        )
        assert row is not None  # scalar subqueries: always exactly one row
        return PricingContext(
            tier=row.tier or "",
            member_prices=row.member_prices,
            promotions=tuple(_promotion(p) for p in row.promotions),
            coupon=_promotion(row.coupon) if row.coupon else None,
            coupon_customer_uses=row.coupon_uses,
            limits=row.limits,
            bought=row.bought,
        )

    async def config(self) -> PricingConfig:
        row = await raw_fetchrow(self._connection, _CONFIG, begin=False)
        assert row is not None  # scalar subqueries: always exactly one row
        return PricingConfig(
            promotions=tuple(_promotion(p) for p in row.promotions),
            member_skus=frozenset(row.member_skus),
            limits=row.limits,
        )

    async def redeem_coupon(
        self, promotion_id: str, order_id: str, customer_id: str, at: datetime
    ) -> str | None:
        """Count one use of the coupon for this order; why not, if it cannot be."""
        limit = (await self._connection.execute(_REDEEM, {"id": promotion_id})).scalar()
        if limit is None:
            return "has been used up"
        recorded = await self._connection.execute(
            _RECORD_REDEMPTION,
            {
                "order_id": order_id,
                "id": promotion_id,
                "customer_id": customer_id,
                "at": at,
                "limit": limit,
            },
        )
        if recorded.first() is None:
            return "was already used the allowed number of times by this customer"
        return None

    async def take_units(
        self, order_id: str, customer_id: str, quantities: Mapping[str, int]
    ) -> set[str]:
        """Count the order's units of limited SKUs; the SKUs that would pass their limit."""
        skus = sorted(quantities)  # one lock order for every order: no deadlocks
        rows = await self._connection.execute(
            _TAKE_UNITS,
            {
                "order_id": order_id,
                "customer_id": customer_id,
                "skus": skus,
                "quantities": [quantities[s] for s in skus],
            },
        )
        return set(skus) - {row.sku for row in rows}

    async def release(self, order_id: str, at: datetime) -> None:
        """Give back the order's coupon use and limited units; a second call does nothing."""
        await self._connection.execute(_RELEASE, {"order_id": order_id, "at": at})

    async def save_breakdown(self, order_id: str, lines: Sequence[LinePricing]) -> None:
        await self._connection.execute(
            _SAVE_BREAKDOWN,
            {
                "order_id": order_id,
                "n": list(range(len(lines))),
                "sku": [line.sku for line in lines],
                "q": [line.quantity for line in lines],
                "g": [line.gift_quantity for line in lines],
                "u": [line.list_unit_price_minor for line in lines],
                "l": [line.list_amount_minor for line in lines],
                "d": [line.discount_minor for line in lines],
                "f": [line.final_minor for line in lines],
                "a": [
                    json.dumps(
                        [[a.kind, a.promotion_id, a.code, a.amount_minor] for a in line.adjustments]
                    )
                    for line in lines
                ],
            },
        )

    async def breakdown(self, order_id: str) -> tuple[LinePricing, ...]:
        rows = await self._connection.execute(_BREAKDOWN, {"order_id": order_id})
        return tuple(
            LinePricing(
                row.sku,
                row.quantity,
                row.gift_quantity,
                row.list_unit_price_minor,
                tuple(Adjustment(*a) for a in row.adjustments),
            )
            for row in rows
        )

    # ------------------------------------------------------------------ management

    async def add(self, promotion: Promotion) -> bool:
        """False if its coupon code is taken."""
        inserted = await self._connection.execute(_INSERT, _params(promotion))
        return inserted.first() is not None

    async def update(self, promotion: Promotion) -> Promotion | None:
        params = {name: value for name, value in _params(promotion).items() if name in _EDITABLE}
        row = (await self._connection.execute(_UPDATE, {**params, "id": promotion.id})).first()
        return _promotion(row._mapping) if row else None

    async def get(self, promotion_id: str) -> Promotion | None:
        row = (
            await self._connection.execute(
                text("SELECT * FROM promotions WHERE id = :id"), {"id": promotion_id}
            )
        ).first()
        return _promotion(row._mapping) if row else None

    async def search(self, kind: PromotionKind | None, active_only: bool) -> list[Promotion]:
        rows = await self._connection.execute(
            text(
                "SELECT * FROM promotions WHERE (CAST(:kind AS text) IS NULL OR kind = :kind) "
                "AND (active OR NOT :active_only) ORDER BY created_at DESC, id DESC LIMIT 1000"
            ),
            {"kind": kind.value if kind else None, "active_only": active_only},
        )
        return [_promotion(row._mapping) for row in rows]

    async def set_tier(self, customer_id: str, tier: str, at: datetime) -> None:
        if not tier:
            await self._connection.execute(
                text("DELETE FROM customer_tiers WHERE customer_id = :c"), {"c": customer_id}
            )
            return
        await self._connection.execute(
            text(
                "INSERT INTO customer_tiers (customer_id, tier, updated_at) VALUES (:c, :t, :at) "
                "ON CONFLICT (customer_id) DO UPDATE SET tier = :t, updated_at = :at"
            ),
            {"c": customer_id, "t": tier, "at": at},
        )

    async def set_member_price(self, price: MemberPrice, at: datetime) -> None:
        params = {"t": price.tier, "s": price.sku, "p": price.unit_price_minor, "at": at}
        if not price.unit_price_minor:
            await self._connection.execute(
                text("DELETE FROM member_prices WHERE tier = :t AND sku = :s"), params
            )
            return
        await self._connection.execute(
            text(
                "INSERT INTO member_prices (tier, sku, unit_price_minor, updated_at) "
                "VALUES (:t, :s, :p, :at) ON CONFLICT (tier, sku) "
                "DO UPDATE SET unit_price_minor = :p, updated_at = :at"
            ),
            params,
        )

    async def member_prices(self, tier: str) -> list[MemberPrice]:
        rows = await self._connection.execute(
            text(
                "SELECT tier, sku, unit_price_minor FROM member_prices "
                "WHERE :t = '' OR tier = :t ORDER BY tier, sku LIMIT 10000"
            ),
            {"t": tier},
        )
        return [MemberPrice(row.tier, row.sku, row.unit_price_minor) for row in rows]

    async def set_purchase_limit(self, limit: PurchaseLimit, at: datetime) -> None:
        params = {"s": limit.sku, "m": limit.max_quantity, "at": at}
        if not limit.max_quantity:
            await self._connection.execute(
                text("DELETE FROM purchase_limits WHERE sku = :s"), params
            )
            return
        await self._connection.execute(
            text(
                "INSERT INTO purchase_limits (sku, max_quantity, updated_at) VALUES (:s, :m, :at) "
                "ON CONFLICT (sku) DO UPDATE SET max_quantity = :m, updated_at = :at"
            ),
            params,
        )

    async def purchase_limits(self) -> list[PurchaseLimit]:
        rows = await self._connection.execute(
            text("SELECT sku, max_quantity FROM purchase_limits ORDER BY sku LIMIT 10000")
        )
        return [PurchaseLimit(row.sku, row.max_quantity) for row in rows]

    async def bought(self, customer_id: str, sku: str) -> int:
        """Units of a limited SKU the customer holds in orders not cancelled."""
        found = await self._connection.execute(
            text("SELECT quantity FROM purchase_counters WHERE customer_id = :c AND sku = :s"),
            {"c": customer_id, "s": sku},
        )
        return int(found.scalar() or 0)
