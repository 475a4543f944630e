"""The shipped default rules, rule validation, and how matching rules combine."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from surge_order.adapters.rules_metrics import RulesMetrics
from surge_order.domain.order import Address, Customer, PaymentTerms, PricedLine
from surge_order.domain.rules import (
    REVIEW_TAG,
    WAREHOUSE_TAG,
    Action,
    Outcome,
    RecentCounts,
    Rule,
    RuleDefinition,
    context,
    decide,
    definition_violations,
    routed,
)
from surge_order.service_layer.rules import RuleEngine, compile_condition
from surge_platform import errors

MIGRATION = (
    Path(__file__).resolve().parents[3]
    / "services/order/src/surge_order/migrations/versions/0002_rules.py"
)
ADDRESS = Address("Zhejiang", "Hangzhou", "Xihu", "1 Lingyin Rd", "310000")
CUSTOMER = Customer("c-1", "Li Lei", "+8613800000000")


def _defaults() -> list[Rule]:
    spec = importlib.util.spec_from_file_location("rules_migration", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    at = datetime.now(UTC)
    return [
        Rule(name, RuleDefinition(cond, Action(action), params, prio, True, desc), 1, at, "t")
        for name, cond, action, params, prio, desc in module.DEFAULT_RULES
    ]


@pytest.fixture
def engine() -> RuleEngine:
    engine = RuleEngine(RulesMetrics(CollectorRegistry()))
    engine.load(_defaults(), 1)
    return engine


def order_context(
    *,
    total: int = 10_000,
    tags: tuple[str, ...] = (),
    recent: RecentCounts | None = None,
    address: Address = ADDRESS,
    customer: Customer = CUSTOMER,
) -> dict[str, Any]:
    line = PricedLine("SKU-1", "Tea", 1, total, 0, total, 200)
    return context(
        channel="web",
        customer=customer,
        address=address,
        lines=[line],
        currency="CNY",
        subtotal_minor=total,
        discount_minor=0,
        total_minor=total,
        payment_terms=PaymentTerms.PREPAID,
        tags=tags,
        coupon_code="",
        recent=recent or RecentCounts(),
    )


def test_an_ordinary_order_matches_no_default_rule(engine: RuleEngine) -> None:
    outcome = engine.evaluate(order_context())
    assert outcome == Outcome()


def test_above_5000_yuan_is_tagged_high_value_and_notified(engine: RuleEngine) -> None:
    assert engine.evaluate(order_context(total=500_000)).notify == []  # not above
    outcome = engine.evaluate(order_context(total=500_001))
    assert outcome.tags == ["high_value"]
    assert outcome.notify == ["high_value"]
    assert not outcome.held


def test_above_50000_yuan_requires_review(engine: RuleEngine) -> None:
    outcome = engine.evaluate(order_context(total=5_000_001))
    assert outcome.review_reasons == ["very_high_value"]
    assert set(outcome.tags) == {"very_high_value", "high_value", REVIEW_TAG}
    assert not engine.evaluate(order_context(total=5_000_000)).review_reasons


@pytest.mark.parametrize(
    "recent",
    [RecentCounts(phone_orders_10m=4), RecentCounts(address_orders_10m=4)],
)
def test_a_fourth_order_to_one_phone_or_address_in_10_minutes_is_held(
    engine: RuleEngine, recent: RecentCounts
) -> None:
    assert engine.evaluate(order_context(recent=recent)).review_reasons == ["velocity"]
    third = RecentCounts(phone_orders_10m=3, address_orders_10m=3)
    assert not engine.evaluate(order_context(recent=third)).held


def test_same_phone_and_skus_within_5_minutes_is_a_possible_duplicate(engine: RuleEngine) -> None:
    outcome = engine.evaluate(order_context(recent=RecentCounts(duplicates_5m=1)))
    assert outcome.review_reasons == ["possible_duplicate"]
    assert "possible_duplicate" in outcome.tags
    # The gateway's own duplicate check arrives as a tag.
    tagged = engine.evaluate(order_context(tags=("possible_duplicate",)))
    assert tagged.review_reasons == ["possible_duplicate"]


@pytest.mark.parametrize(
    ("address", "customer"),
    [
        (replace(ADDRESS, line1="1"), CUSTOMER),
        (replace(ADDRESS, district=" "), CUSTOMER),
        (replace(ADDRESS, postal_code="31000"), CUSTOMER),
        (ADDRESS, replace(CUSTOMER, phone="+8612345")),
    ],
)
def test_an_incomplete_address_or_invalid_phone_requires_review(
    engine: RuleEngine, address: Address, customer: Customer
) -> None:
    outcome = engine.evaluate(order_context(address=address, customer=customer))
    assert outcome.review_reasons == ["address_check"]


def test_vip_orders_are_tagged_priority(engine: RuleEngine) -> None:
    outcome = engine.evaluate(order_context(tags=("vip",)))
    assert outcome.tags == ["priority"]
    assert not outcome.held


def test_a_disabled_rule_does_not_run() -> None:
    engine = RuleEngine(RulesMetrics(CollectorRegistry()))
    rules = [
        replace(r, definition=replace(r.definition, enabled=False))
        if r.name == "vip_priority"
        else r
        for r in _defaults()
    ]
    engine.load(rules, 2)
    assert engine.evaluate(order_context(tags=("vip",))).tags == []


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("order.total_minor >", "does not compile"),
        ("order.totl_minor > 1", "unknown field 'totl_minor'"),
        ("false && order.nope == 1", "unknown field 'nope'"),
        ("basket.total > 1", "unknown variable 'basket'"),
        ("order.total_minor + 1", "must evaluate to a bool"),
        ('order.total_minor > "1"', "fails on a sample order"),
    ],
)
def test_a_bad_condition_is_refused_with_a_clear_message(condition: str, expected: str) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        compile_condition(condition)
    assert expected in str(refused.value)


def test_conditions_may_use_macros_and_string_functions() -> None:
    program = compile_condition(
        'order.lines.exists(l, l.sku.startsWith("SKU") && l.quantity > 0) && '
        'size(order.skus) == 1 && address.province == "Zhejiang"'
    )
    assert program.execute(order_context()) is True


def test_action_parameters_are_checked() -> None:
    definition = RuleDefinition("true", Action.ROUTE_WAREHOUSE, {}, 0, True)
    assert definition_violations("Bad Name", definition) == {
        "name": "must be 1-63 lower-case letters, digits or _, starting with a letter",
        "params.warehouse": "is required for action route_warehouse",
    }
    odd = RuleDefinition("true", Action.TAG, {"tag": "x", "colour": "red"}, 0, True)
    assert "params.colour" in definition_violations("ok", odd)


def test_routing_takes_the_highest_priority_rule_and_travels_as_a_tag() -> None:
    low = RuleDefinition("true", Action.ROUTE_WAREHOUSE, {"warehouse": "SH-01"}, 1, True)
    high = RuleDefinition("true", Action.ROUTE_WAREHOUSE, {"warehouse": "HZ-01"}, 9, True)
    outcome = decide([("low", low), ("high", high)])
    assert outcome.warehouse == "HZ-01"
    tags = outcome.order_tags(["vip"])
    assert tags == ("vip", f"{WAREHOUSE_TAG}HZ-01")
    assert routed(tags, WAREHOUSE_TAG) == "HZ-01"


def test_a_rule_failing_on_one_order_is_treated_as_not_matching() -> None:
    engine = RuleEngine(RulesMetrics(CollectorRegistry()))
    at = datetime.now(UTC)
    first_line = RuleDefinition("order.lines[1].quantity > 0", Action.HOLD, {}, 0, True)
    engine.load([Rule("second_line", first_line, 1, at, "t")], 1)
    assert not engine.evaluate(order_context()).held  # the order has one line
