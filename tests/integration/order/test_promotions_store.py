"""Coupons and purchase limits on a real PostgreSQL under concurrency, and their release on
cancellation: the guarantees `redeem` promises hold when many orders race for the last use."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.inventory.v1 import inventory_pb2
from surge_order.adapters.metrics import OrderMetrics
from surge_order.domain import commands
from surge_order.domain.order import Address, CatalogItem, Customer, LineRequest, PaymentTerms
from surge_order.domain.promotions import MemberPrice, Promotion, PromotionKind, PurchaseLimit
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import handlers, promotions
from surge_order.service_layer.saga import Orchestrator, SagaPolicy
from surge_order.service_layer.unit_of_work import OrderUnitOfWork
from surge_platform import errors
from surge_platform.db import create_engine
from surge_platform.messaging import Topology
from surge_platform.migrations import migrate, migrations_of

from tests.integration.order.conftest import uows

pytestmark = pytest.mark.integration

PRICES = {"TEA": 1999, "CUP": 333, "PHONE": 499_900, "BAG": 800}


class Catalog:
    async def skus(self, codes: Iterable[str]) -> Mapping[str, CatalogItem]:
        return {
            c: CatalogItem(c, f"name {c}", PRICES[c], "CNY", 100, True)
            for c in codes
            if c in PRICES
        }


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(migrate, migrations_of("surge_order"), database_url)
    engine = create_engine(database_url, pool_size=20)
    yield engine
    await engine.dispose()


@pytest.fixture
def orchestrator() -> Orchestrator:
    return Orchestrator(Topology("t"), OrderMetrics(CollectorRegistry()), SagaPolicy())


async def place(
    engine: AsyncEngine,
    orchestrator: Orchestrator,
    client_order_id: str,
    *,
    customer: str = "c-1",
    lines: tuple[LineRequest, ...] = (LineRequest("TEA", 2), LineRequest("CUP", 1)),
    coupon: str = "",
) -> handlers.OrderView:
    cmd = commands.PlaceOrder(
        client_order_id=client_order_id,
        channel="web",
        external_id="",
        customer=Customer(customer, "Li Lei", "13800000000"),
        address=Address("Zhejiang", "Hangzhou", "Xihu", "1 Lingyin Rd", "310000"),
        lines=lines,
        payment_terms=PaymentTerms.PREPAID,
        coupon_code=coupon,
    )
    view, _ = await handlers.place_order(cmd, uows(engine), Catalog(), orchestrator)
    return view


async def coupon(engine: AsyncEngine, **kw: Any) -> Promotion:
    promotion = Promotion(
        id="", name="last one", kind=PromotionKind.FIXED_COUPON, code="LAST", amount_minor=500
    )
    promotion = dataclasses.replace(promotion, **kw)
    return await promotions.create_promotion(promotion, Catalog(), uows(engine))


async def scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def race(calls: list[asyncio.Future[handlers.OrderView]]) -> tuple[list[str], list[str]]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    placed = [r.order.id for r in results if isinstance(r, handlers.OrderView)]
    refused = [
        next(iter(r.field_violations.values()))
        for r in results
        if isinstance(r, errors.InvalidArgument)
    ]
    assert len(placed) + len(refused) == len(results), results
    return placed, refused


async def test_a_coupon_with_one_use_left_is_redeemed_by_exactly_one_of_50_orders(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    await coupon(engine, usage_limit=1)
    placed, refused = await race(
        [
            asyncio.ensure_future(
                place(engine, orchestrator, f"co-{i}", customer=f"c-{i}", coupon="last")
            )
            for i in range(50)
        ]
    )
    assert len(placed) == 1
    assert len(refused) == 49
    assert all(problem == "has been used up" for problem in refused)
    assert await scalar(engine, "SELECT count(*) FROM orders") == 1
    assert await scalar(engine, "SELECT used FROM promotions") == 1
    assert await scalar(engine, "SELECT count(*) FROM coupon_redemptions") == 1
    view = await handlers.get_order(placed[0], uows(engine))
    assert view.order.coupon_code == "LAST"
    assert view.order.total_minor == 2 * 1999 + 333 - 500
    assert sum(line.final_minor for line in view.pricing) == view.order.total_minor


async def test_cancelling_gives_the_coupon_use_back(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    await coupon(engine, usage_limit=1, per_customer_limit=1)
    first = await place(engine, orchestrator, "co-1", coupon="LAST")
    with pytest.raises(errors.InvalidArgument):
        await place(engine, orchestrator, "co-2", coupon="LAST")
    # A repeat of the first placement is that order, not a refusal.
    assert (await place(engine, orchestrator, "co-1", coupon="LAST")).order.id == first.order.id
    await handlers.cancel_order(
        commands.CancelOrder(first.order.id, "changed my mind", "c-1"), uows(engine), orchestrator
    )
    assert await scalar(engine, "SELECT used FROM promotions") == 0
    again = await place(engine, orchestrator, "co-3", coupon="LAST")
    assert again.order.discount_minor == 500
    # Cancelling twice gives back once.
    await handlers.cancel_order(
        commands.CancelOrder(first.order.id, "again", "c-1"), uows(engine), orchestrator
    )
    assert await scalar(engine, "SELECT used FROM promotions") == 1


async def test_a_failed_saga_gives_the_coupon_and_the_limited_units_back(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    await coupon(engine, usage_limit=1)
    await promotions.set_purchase_limit(PurchaseLimit("TEA", 2), Catalog(), uows(engine))
    view = await place(engine, orchestrator, "co-1", coupon="LAST")
    assert view.saga is not None
    assert await scalar(engine, "SELECT quantity FROM purchase_counters") == 2
    async with OrderUnitOfWork(engine) as uow:
        rejected = inventory_pb2.StockRejected(
            saga_id=view.saga.id, order_id=view.order.id, reason="insufficient stock"
        )
        await orchestrator.on_stock_rejected(rejected, uow)
    cancelled = await handlers.get_order(view.order.id, uows(engine))
    assert cancelled.order.status is OrderStatus.CANCELLED
    assert await scalar(engine, "SELECT used FROM promotions") == 0
    assert await scalar(engine, "SELECT quantity FROM purchase_counters") == 0


async def test_an_expired_or_unknown_coupon_rejects_the_order_and_stores_nothing(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    now = datetime.now(UTC)
    await coupon(engine, starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    for code, problem in (("LAST", "is not valid at this time"), ("NOPE", "not a known coupon")):
        with pytest.raises(errors.InvalidArgument) as refused:
            await place(engine, orchestrator, f"co-{code}", coupon=code)
        assert problem in refused.value.field_violations["coupon_code"]
    assert await scalar(engine, "SELECT count(*) FROM orders") == 0


async def test_100_concurrent_orders_of_one_customer_get_exactly_the_purchase_limit(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    await promotions.set_purchase_limit(PurchaseLimit("PHONE", 2), Catalog(), uows(engine))
    phone = (LineRequest("PHONE", 1),)
    placed, refused = await race(
        [
            asyncio.ensure_future(place(engine, orchestrator, f"co-{i}", lines=phone))
            for i in range(100)
        ]
    )
    assert len(placed) == 2
    assert len(refused) == 98
    assert await scalar(engine, "SELECT count(*) FROM orders") == 2
    assert await scalar(engine, "SELECT quantity FROM purchase_counters") == 2
    # Another customer has their own allowance; a cancelled order gives its units back.
    await place(engine, orchestrator, "other", customer="c-2", lines=phone)
    await handlers.cancel_order(
        commands.CancelOrder(placed[0], "changed my mind", "c-1"), uows(engine), orchestrator
    )
    await place(engine, orchestrator, "co-after-cancel", lines=phone)
    with pytest.raises(errors.InvalidArgument) as refused_again:
        await place(engine, orchestrator, "co-over", lines=phone)
    assert "at most 2 units of PHONE" in refused_again.value.field_violations["lines[0].quantity"]


async def test_threshold_gift_and_member_price_are_stored_as_a_breakdown(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    u = uows(engine)
    await promotions.set_customer_tier("c-1", "gold", u)
    await promotions.set_member_price(MemberPrice("gold", "TEA", 1899), Catalog(), u)
    await promotions.create_promotion(
        Promotion(
            id="",
            name="50 off every 300",
            kind=PromotionKind.THRESHOLD,
            threshold_minor=3_000,
            amount_minor=500,
            repeat=True,
        ),
        Catalog(),
        u,
    )
    await promotions.create_promotion(
        Promotion(
            id="",
            name="bag with 2 teas",
            kind=PromotionKind.GIFT,
            buy_sku="TEA",
            buy_quantity=2,
            gift_sku="BAG",
            gift_quantity=1,
        ),
        Catalog(),
        u,
    )
    view = await place(engine, orchestrator, "co-1", lines=(LineRequest("TEA", 3),))
    stored = await handlers.get_order(view.order.id, u)
    assert stored.pricing == view.pricing
    assert [(b.sku, b.quantity, b.gift_quantity) for b in stored.pricing] == [
        ("TEA", 3, 0),
        ("BAG", 1, 1),
    ]
    assert [a.kind for a in stored.pricing[0].adjustments] == ["member_price", "threshold"]
    assert stored.order.total_minor == 3 * 1899 - 500
    assert sum(b.final_minor for b in stored.pricing) == stored.order.total_minor
    assert [line.sku for line in stored.order.lines] == ["TEA", "BAG"]


async def test_a_bad_gift_rule_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await promotions.create_promotion(
            Promotion(
                id="",
                name="ghost gift",
                kind=PromotionKind.GIFT,
                buy_sku="TEA",
                buy_quantity=1,
                gift_sku="GHOST",
                gift_quantity=1,
            ),
            Catalog(),
            uows(engine),
        )
    assert refused.value.field_violations == {"gift_sku": "unknown SKU 'GHOST'"}
    assert await scalar(engine, "SELECT count(*) FROM promotions") == 0
