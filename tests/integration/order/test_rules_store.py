"""The rules' SQL on a real PostgreSQL: recent-order counts, versions and audit, held orders'
reviews, and escalation that several replicas run at once without escalating anything twice."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_order.adapters.metrics import OrderMetrics
from surge_order.adapters.rules_metrics import RulesMetrics
from surge_order.domain import commands
from surge_order.domain.order import Address, Customer, LineRequest, PaymentTerms
from surge_order.domain.rules import Action, RuleDefinition
from surge_order.service_layer import handlers, rules
from surge_order.service_layer.review import ReviewDesk
from surge_order.service_layer.rules import RuleEngine, Screening
from surge_order.service_layer.saga import Orchestrator, SagaPolicy
from surge_platform import errors
from surge_platform.messaging import Topology

from tests.integration.order.conftest import Catalog, uows

pytestmark = pytest.mark.integration

TOPOLOGY = Topology("t")


@pytest.fixture
def orchestrator() -> Orchestrator:
    return Orchestrator(TOPOLOGY, OrderMetrics(CollectorRegistry()), SagaPolicy())


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> RulesMetrics:
    return RulesMetrics(registry)


@pytest.fixture
def screening(engine: AsyncEngine, metrics: RulesMetrics) -> Screening:
    return Screening(RuleEngine(metrics), uows(engine), TOPOLOGY, metrics)


async def place(
    engine: AsyncEngine,
    orchestrator: Orchestrator,
    screening: Screening,
    n: int,
    *,
    phone: str = "13800000000",
    skus: tuple[str, ...] = ("TEA",),
    line1: str = "1 Lingyin Rd",
) -> handlers.OrderView:
    cmd = commands.PlaceOrder(
        client_order_id=f"co-{n}",
        channel="web",
        external_id="",
        customer=Customer(f"c-{n}", "Li Lei", phone),
        address=Address("Zhejiang", "Hangzhou", "Xihu", line1, "310000"),
        lines=tuple(LineRequest(sku, 1) for sku in skus),
        payment_terms=PaymentTerms.ON_ACCOUNT,
        tags=(),
    )
    view, created = await handlers.place_order(
        cmd, uows(engine), Catalog(), orchestrator, screening
    )
    assert created
    return view


async def test_velocity_counts_orders_per_phone_and_per_address(
    engine: AsyncEngine, orchestrator: Orchestrator, screening: Screening
) -> None:
    tags = [
        (
            await place(engine, orchestrator, screening, n, skus=(f"S{n}",), line1=f"{n} Rd")
        ).order.tags
        for n in range(4)
    ]
    assert tags[:3] == [(), (), ()]
    assert set(tags[3]) == {"velocity", "review"}  # the 4th to one phone in 10 minutes
    by_address = [
        await place(
            engine, orchestrator, screening, 10 + n, phone=f"1390000000{n}", skus=(f"A{n}",)
        )
        for n in range(4)
    ]
    assert "velocity" in by_address[3].order.tags  # the 4th to one address, other phones


async def test_same_phone_and_sku_set_is_a_possible_duplicate(
    engine: AsyncEngine, orchestrator: Orchestrator, screening: Screening
) -> None:
    first = await place(engine, orchestrator, screening, 1, skus=("TEA", "CUP"), line1="a st 1")
    other = await place(engine, orchestrator, screening, 2, skus=("TEA",), line1="b st 2")
    twin = await place(engine, orchestrator, screening, 3, skus=("CUP", "TEA"), line1="c st 3")
    assert "possible_duplicate" not in first.order.tags + other.order.tags
    assert {"possible_duplicate", "review"} <= set(twin.order.tags)
    async with engine.connect() as conn:
        held = (await conn.execute(text("SELECT order_id, reasons FROM order_reviews"))).all()
    assert [(str(r.order_id), list(r.reasons)) for r in held] == [
        (twin.order.id, ["possible_duplicate"])
    ]


async def test_every_change_is_a_version_with_an_audit_entry(
    engine: AsyncEngine, screening: Screening
) -> None:
    hold = RuleDefinition("order.item_count > 5", Action.HOLD, {"tag": "bulk"}, 10, True)
    await rules.create_rule("bulk", hold, "user:ann", uows(engine), screening.engine)
    with pytest.raises(errors.Conflict):
        await rules.create_rule("bulk", hold, "user:ann", uows(engine), screening.engine)
    wider = RuleDefinition("order.item_count > 9", Action.HOLD, {"tag": "bulk"}, 10, True)
    await rules.update_rule("bulk", wider, "user:bob", uows(engine), screening.engine)
    await rules.set_enabled("bulk", False, "user:cy", uows(engine), screening.engine)
    await rules.set_enabled("bulk", False, "user:cy", uows(engine), screening.engine)  # no-op
    bad = RuleDefinition("order.itemcount > 9", Action.HOLD, {}, 10, True)
    with pytest.raises(errors.InvalidArgument):
        await rules.update_rule("bulk", bad, "user:dee", uows(engine), screening.engine)
    view = await rules.get_rule("bulk", uows(engine))
    assert view.rule.version == 3
    assert not view.rule.definition.enabled
    assert [v.definition.condition for v in view.versions] == [
        "order.item_count > 9",
        "order.item_count > 9",
        "order.item_count > 5",
    ]
    assert [(a.version, a.change, a.actor) for a in view.audit] == [
        (3, "disabled", "user:cy"),
        (2, "updated", "user:bob"),
        (1, "created", "user:ann"),
    ]
    _, version = await rules.list_rules(uows(engine))
    assert screening.engine.version == version  # this replica reloaded at once


async def test_escalation_by_several_replicas_escalates_each_review_once(
    engine: AsyncEngine,
    orchestrator: Orchestrator,
    screening: Screening,
    metrics: RulesMetrics,
    registry: CollectorRegistry,
) -> None:
    hold = RuleDefinition("true", Action.HOLD, {}, 10, True)
    await rules.create_rule("hold_all", hold, "user:ann", uows(engine), screening.engine)
    for n in range(12):
        await place(engine, orchestrator, screening, n, phone=f"1370000{n:04d}", line1=f"{n} st")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE order_reviews SET held_at = held_at - interval '2 hours'"))
    desks = [ReviewDesk(uows(engine), orchestrator, TOPOLOGY, metrics, 3600) for _ in range(4)]
    counts = await asyncio.gather(*(desk.escalate(limit=5) for desk in desks * 2))
    assert sum(counts) == 12
    assert sum(await asyncio.gather(*(desk.escalate() for desk in desks))) == 0
    assert registry.get_sample_value("surge_order_reviews_escalated_total") == 12
    async with engine.connect() as conn:
        events = await conn.execute(
            text("SELECT count(*) FROM outbox WHERE msg_type LIKE '%ReviewEscalated'")
        )
        assert events.scalar_one() == 12
