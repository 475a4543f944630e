"""Order rules as data: what a rule is, the context its CEL condition sees, and what the rules
that matched an order decide together.

Compiling and evaluating CEL is the service layer's (`service_layer/rules.py`); here is only the
product logic, so it is testable without the CEL library. The context is documented in
`docs/rules.md`; `SAMPLE_CONTEXT` has every field, and a condition naming anything else is
rejected when the rule is saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from surge_order.domain.order import Address, Customer, PaymentTerms, PricedLine, normalise_phone

__all__ = [
    "CARRIER_TAG",
    "REVIEW_TAG",
    "SAMPLE_CONTEXT",
    "WAREHOUSE_TAG",
    "Action",
    "Outcome",
    "RecentCounts",
    "Rule",
    "RuleDefinition",
    "address_complete",
    "context",
    "decide",
    "definition_violations",
    "is_reserved_tag",
    "known_fields",
    "routed",
]

REVIEW_TAG = "review"  # every held order carries it: the saga checks for a review only then
WAREHOUSE_TAG = "warehouse:"
CARRIER_TAG = "carrier:"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_PARAM = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_POSTAL_CODE = re.compile(r"^\d{6}$")
MAX_CONDITION_LENGTH = 2000
MIN_LINE1_LENGTH = 4  # a street with a number, e.g. "人民路1号"; shorter is not an address


class Action(StrEnum):
    REQUIRE_REVIEW = "require_review"
    TAG = "tag"
    ROUTE_WAREHOUSE = "route_warehouse"
    CHOOSE_CARRIER = "choose_carrier"
    NOTIFY = "notify"
    HOLD = "hold"


# The parameter each action needs; "tag" is optional for every other action.
REQUIRED_PARAM: dict[Action, str] = {
    Action.TAG: "tag",
    Action.ROUTE_WAREHOUSE: "warehouse",
    Action.CHOOSE_CARRIER: "carrier",
}
ALLOWED_PARAMS = frozenset({"tag", "warehouse", "carrier"})


@dataclass(frozen=True)
class RuleDefinition:
    condition: str
    action: Action
    params: Mapping[str, str]
    priority: int
    enabled: bool
    description: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    definition: RuleDefinition
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class RecentCounts:
    """Orders placed recently that the velocity and duplicate rules look at (this one included
    in the first two: "more than 3 orders" reads `> 3`)."""

    phone_orders_10m: int = 1
    address_orders_10m: int = 1
    duplicates_5m: int = 0


@dataclass
class Outcome:
    """What the matching rules decided for one order."""

    tags: list[str] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)
    warehouse: str = ""
    carrier: str = ""

    @property
    def held(self) -> bool:
        return bool(self.review_reasons)

    @property
    def records_nothing(self) -> bool:
        """True if placement stores no review and announces no flag for this outcome."""
        return not self.review_reasons and not self.notify

    def order_tags(self, existing: Iterable[str]) -> tuple[str, ...]:
        """The order's tags after the rules: a routing choice travels as a tag (the saga
        rebuilds each step's command from the order alone)."""
        tags = list(existing)
        extra = [*self.tags]
        if self.warehouse:
            extra.append(f"{WAREHOUSE_TAG}{self.warehouse}")
        if self.carrier:
            extra.append(f"{CARRIER_TAG}{self.carrier}")
        tags += [tag for tag in extra if tag not in tags]
        return tuple(tags)


def is_reserved_tag(tag: str) -> bool:
    return tag == REVIEW_TAG or tag.startswith((WAREHOUSE_TAG, CARRIER_TAG))


def routed(tags: Iterable[str], prefix: str) -> str:
    """The value of the first `prefix…` tag (WAREHOUSE_TAG or CARRIER_TAG), or ""."""
    return next((tag.removeprefix(prefix) for tag in tags if tag.startswith(prefix)), "")


def definition_violations(name: str | None, definition: RuleDefinition) -> dict[str, str]:
    """What is wrong with a rule besides its condition (compiled by the service layer)."""
    problems: dict[str, str] = {}
    if name is not None and not _NAME.match(name):
        problems["name"] = "must be 1-63 lower-case letters, digits or _, starting with a letter"
    if not definition.condition.strip():
        problems["condition"] = "is required"
    elif len(definition.condition) > MAX_CONDITION_LENGTH:
        problems["condition"] = f"must be at most {MAX_CONDITION_LENGTH} characters"
    needed = REQUIRED_PARAM.get(definition.action)
    if needed and not definition.params.get(needed):
        problems[f"params.{needed}"] = f"is required for action {definition.action}"
    for key, value in definition.params.items():
        if key not in ALLOWED_PARAMS:
            problems[f"params.{key}"] = f"unknown parameter; allowed: {sorted(ALLOWED_PARAMS)}"
        elif not _PARAM.match(value):
            problems[f"params.{key}"] = "must be 1-64 letters, digits or _.:-"
    if not -10_000 <= definition.priority <= 10_000:
        problems["priority"] = "must be between -10000 and 10000"
    return problems


def address_complete(address: Address) -> bool:
    parts = (address.province, address.city, address.district, address.line1)
    return (
        all(part.strip() for part in parts)
        and len(address.line1.strip()) >= MIN_LINE1_LENGTH
        and bool(_POSTAL_CODE.match(address.postal_code))
    )


def context(
    *,
    channel: str,
    customer: Customer,
    address: Address,
    lines: Sequence[PricedLine],
    currency: str,
    subtotal_minor: int,
    discount_minor: int,
    total_minor: int,
    payment_terms: PaymentTerms,
    tags: Iterable[str],
    coupon_code: str,
    recent: RecentCounts,
) -> dict[str, Any]:
    """The variables a condition sees (docs/rules.md). Amounts are integer minor units."""
    tag_list = list(tags)
    return {
        "order": {
            "channel": channel,
            "currency": currency,
            "subtotal_minor": subtotal_minor,
            "discount_minor": discount_minor,
            "total_minor": total_minor,
            "payment_terms": payment_terms.value,
            "tags": tag_list,
            "coupon_code": coupon_code,
            "item_count": sum(line.quantity for line in lines),
            "skus": sorted({line.sku for line in lines}),
            "lines": [
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price_minor": line.unit_price_minor,
                    "total_minor": line.total_minor,
                    "weight_grams": line.weight_grams,
                }
                for line in lines
            ],
        },
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "phone": customer.phone,
            "phone_valid": normalise_phone(customer.phone) is not None,
            # VIP is a tag the channel (or CRM) puts on the order: no customer store here.
            "vip": "vip" in tag_list,
        },
        "address": {
            "province": address.province,
            "city": address.city,
            "district": address.district,
            "line1": address.line1,
            "postal_code": address.postal_code,
            "complete": address_complete(address),
        },
        "recent": {
            "phone_orders_10m": recent.phone_orders_10m,
            "address_orders_10m": recent.address_orders_10m,
            "duplicates_5m": recent.duplicates_5m,
        },
    }


SAMPLE_CONTEXT: dict[str, Any] = context(
    channel="web",
    customer=Customer("sample", "Sample", "+8613800000000"),
    address=Address("Zhejiang", "Hangzhou", "Xihu", "1 Sample Road", "310000"),
    lines=[PricedLine("SKU-1", "Sample", 1, 100, 0, 100, 10)],
    currency="CNY",
    subtotal_minor=100,
    discount_minor=0,
    total_minor=100,
    payment_terms=PaymentTerms.PREPAID,
    tags=["vip"],
    coupon_code="",
    recent=RecentCounts(),
)


def known_fields(value: Any = None) -> frozenset[str]:
    """Every field name at any depth of the context (conditions may name only these)."""
    names: set[str] = set()
    stack = [SAMPLE_CONTEXT if value is None else value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            names.update(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return frozenset(names)


def decide(matched: Iterable[tuple[str, RuleDefinition]]) -> Outcome:
    """Combine the rules whose condition held, highest priority first.

    Tags accumulate; any REQUIRE_REVIEW or HOLD holds the order (its reason is the rule name);
    for the warehouse and the carrier the highest-priority rule wins.
    """
    outcome = Outcome()
    ordered = sorted(matched, key=lambda item: (-item[1].priority, item[0]))
    for name, rule in ordered:
        tag = rule.params.get("tag", "")
        if tag and tag not in outcome.tags:
            outcome.tags.append(tag)
        if rule.action in (Action.REQUIRE_REVIEW, Action.HOLD):
            outcome.review_reasons.append(name)
        elif rule.action is Action.NOTIFY:
            outcome.notify.append(name)
        elif rule.action is Action.ROUTE_WAREHOUSE and not outcome.warehouse:
            outcome.warehouse = rule.params["warehouse"]
        elif rule.action is Action.CHOOSE_CARRIER and not outcome.carrier:
            outcome.carrier = rule.params["carrier"]
    if outcome.held and REVIEW_TAG not in outcome.tags:
        outcome.tags.append(REVIEW_TAG)
    return outcome
