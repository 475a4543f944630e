"""The rules engine: CEL conditions compiled once per rule-set version, evaluated at placement.

Every replica keeps the compiled rule set in memory and polls the one-row `rule_set` version
every `rules_refresh_seconds`; a change made through any replica reaches all of them within that
time, without a restart. A rule is validated when saved (compiles, names only context fields,
evaluates to a bool on a sample order), so a bad rule is refused and the old version keeps
running.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cel
from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.order.v1 import rules_pb2
from surge_platform import errors
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_order.adapters.rules_metrics import RulesMetrics
from surge_order.adapters.rules_repository import AuditRecord
from surge_order.domain.model import Order
from surge_order.domain.rules import (
    SAMPLE_CONTEXT,
    Outcome,
    RecentCounts,
    Rule,
    RuleDefinition,
    context,
    decide,
    definition_violations,
    is_reserved_tag,
    known_fields,
)
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = [
    "RuleEngine",
    "RuleView",
    "Screening",
    "compile_condition",
    "create_rule",
    "get_rule",
    "list_rules",
    "record_outcome",
    "screen",
    "set_enabled",
    "update_rule",
]

UowFactory = Callable[[], OrderUnitOfWork]
_log = get_logger("surge.order.rules")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_SELECTOR = re.compile(r"\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\()?")
_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_ROOTS = frozenset(SAMPLE_CONTEXT)
_FIELDS = known_fields()


def compile_condition(condition: str) -> Any:
    """The compiled program, or InvalidArgument saying what is wrong with the condition."""
    try:
        program = cel.compile(condition)
    except ValueError as exc:
        raise _invalid(f"does not compile: {exc}") from None
    bare = _STRING.sub('""', condition)
    bound = set(_BOUND.findall(bare))
    unknown_roots = sorted(set(program.variables()) - _ROOTS - bound)
    if unknown_roots:
        raise _invalid(f"unknown variable {unknown_roots[0]!r}; the context has {sorted(_ROOTS)}")
    for name, call in _SELECTOR.findall(bare):
        if not call and name not in _FIELDS and name not in bound:
            raise _invalid(f"unknown field {name!r} (see docs/rules.md for the order context)")
    try:
        result = program.execute(SAMPLE_CONTEXT)
    except KeyError as exc:
        raise _invalid(f"unknown field {exc.args[0]!r}") from None
    except Exception as exc:  # every CEL evaluation error: type mismatch, unknown function
        raise _invalid(f"fails on a sample order: {exc}") from None
    if not isinstance(result, bool):
        raise _invalid(f"must evaluate to a bool, not {type(result).__name__}")
    return program


def _invalid(problem: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(
        f"the rule condition is not valid: {problem}", {"definition.condition": problem}
    )


@dataclass(frozen=True)
class _Compiled:
    name: str
    definition: RuleDefinition
    program: Any


class RuleEngine:
    """The enabled rules of one rule-set version, compiled; swapped whole on a change."""

    def __init__(self, metrics: RulesMetrics) -> None:
        self._metrics = metrics
        self._version = 0
        self._rules: tuple[_Compiled, ...] = ()
        self._uses_recent = False

    @property
    def version(self) -> int:
        return self._version

    async def refresh(self, uows: UowFactory) -> bool:
        """Load and compile the rules if their version changed; True if it did."""
        async with uows() as uow:
            version = await uow.rules.rule_set_version()
            if version == self._version:
                return False
            rules = await uow.rules.all()
        self.load(rules, version)
        return True

    def load(self, rules: list[Rule], version: int) -> None:
        """Compile the enabled rules and swap them in as `version`."""
        compiled = []
        for rule in rules:
            if not rule.definition.enabled:
                continue
            try:
                program = compile_condition(rule.definition.condition)
            except errors.InvalidArgument:
                _log.error("stored rule does not compile; skipped", rule=rule.name)
                continue
            compiled.append(_Compiled(rule.name, rule.definition, program))
        self._rules = tuple(compiled)
        self._uses_recent = any("recent" in c.program.variables() for c in compiled)
        self._version = version
        self._metrics.rule_set_version.set(version)
        _log.info("rules loaded", version=version, enabled=len(compiled))

    async def ensure_loaded(self, uows: UowFactory) -> None:
        if not self._version:
            await self.refresh(uows)

    @property
    def uses_recent(self) -> bool:
        return self._uses_recent

    def evaluate(self, variables: dict[str, Any]) -> Outcome:
        activation = cel.Context(variables)
        matched = []
        for rule in self._rules:
            try:
                result = rule.program.execute(activation)
            except Exception:  # a rule failing on one order must not refuse the order
                _log.warning("rule failed on an order; treated as not matching", rule=rule.name)
                self._metrics.rule_errors.labels(rule.name).inc()
                continue
            if result is True:
                matched.append((rule.name, rule.definition))
        return decide(matched)

    def poller(
        self, uows: UowFactory, interval: float
    ) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
        async def run(stop: asyncio.Event) -> None:
            while not stop.is_set():
                try:
                    await self.refresh(uows)
                except Exception:
                    _log.exception("rules refresh failed; keeping the loaded version")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)

        return run


# ------------------------------------------------------------------------ placement


@dataclass(frozen=True)
class Screening:
    """What placement needs to run the rules on a new order (wired by bootstrap)."""

    engine: RuleEngine
    uows: UowFactory
    topology: Topology
    metrics: RulesMetrics

    async def ready(self) -> None:
        await self.engine.ensure_loaded(self.uows)

    async def screen(self, uow: OrderUnitOfWork, order: Order, now: datetime) -> Outcome:
        return await screen(uow, self.engine, order, now)

    async def record(
        self, uow: OrderUnitOfWork, order: Order, outcome: Outcome, now: datetime
    ) -> None:
        await record_outcome(uow, self.topology, self.metrics, order, outcome, now)


async def screen(uow: OrderUnitOfWork, engine: RuleEngine, order: Order, now: datetime) -> Outcome:
    """Run the rules on a new order (before it is inserted) and put their tags on it."""
    # Tags that steer the saga are the rules' to set, never a client's.
    order.tags = tuple(tag for tag in order.tags if not is_reserved_tag(tag))
    recent = RecentCounts()
    if engine.uses_recent:
        recent = await uow.rules.recent(
            order.customer.phone, order.address, [line.sku for line in order.lines], now
        )
    outcome = engine.evaluate(
        context(
            channel=order.channel,
            customer=order.customer,
            address=order.address,
            lines=order.lines,
            currency=order.currency,
            subtotal_minor=order.subtotal_minor,
            discount_minor=order.discount_minor,
            total_minor=order.total_minor,
            payment_terms=order.payment_terms,
            tags=order.tags,
            coupon_code=order.coupon_code,
            recent=recent,
        )
    )
    order.tags = outcome.order_tags(order.tags)
    return outcome


async def record_outcome(
    uow: OrderUnitOfWork,
    topology: Topology,
    metrics: RulesMetrics,
    order: Order,
    outcome: Outcome,
    now: datetime,
) -> None:
    """For an order just inserted: queue its review and announce what NOTIFY rules flagged."""
    if outcome.held:
        await uow.rules.add_review(order.id, outcome.review_reasons, now)
        for reason in outcome.review_reasons:
            uow.after_commit(metrics.orders_held.labels(reason).inc)
    occurred = Timestamp()
    occurred.FromDatetime(now)
    for rule in outcome.notify:
        event = rules_pb2.OrderFlagged(
            order_id=order.id,
            rule=rule,
            customer_id=order.customer.id,
            channel=order.channel,
            total=common_pb2.Money(amount_minor=order.total_minor, currency=order.currency),
            tags=list(order.tags),
            occurred_at=occurred,
        )
        uow.outbox.add(topology.subject_for(event), event)
        uow.after_commit(metrics.orders_flagged.labels(rule).inc)


# ------------------------------------------------------------------------ management


@dataclass(frozen=True)
class RuleView:
    rule: Rule
    versions: list[Rule]
    audit: list[AuditRecord]


async def list_rules(uows: UowFactory) -> tuple[list[Rule], int]:
    async with uows() as uow:
        return await uow.rules.all(), await uow.rules.rule_set_version()


async def get_rule(name: str, uows: UowFactory) -> RuleView:
    async with uows() as uow:
        rule = await uow.rules.get(name)
        if rule is None:
            raise errors.NotFound(f"rule {name!r} does not exist")
        return RuleView(rule, await uow.rules.versions(name), await uow.rules.audit(name))


def _validate(name: str | None, definition: RuleDefinition) -> None:
    problems = {
        (f"definition.{k}" if k != "name" else k): v
        for k, v in definition_violations(name, definition).items()
    }
    if problems:
        raise errors.InvalidArgument("the rule is not valid", problems)
    compile_condition(definition.condition)


async def create_rule(
    name: str, definition: RuleDefinition, actor: str, uows: UowFactory, engine: RuleEngine
) -> Rule:
    _validate(name, definition)
    rule = Rule(name, definition, 1, datetime.now(UTC), actor or "unknown")
    async with uows() as uow:
        if not await uow.rules.write(rule, "created"):
            raise errors.Conflict(f"rule {name!r} already exists")
        await uow.commit()
    await engine.refresh(uows)
    return rule


async def update_rule(
    name: str, definition: RuleDefinition, actor: str, uows: UowFactory, engine: RuleEngine
) -> Rule:
    _validate(None, definition)
    return await _change(name, lambda _: definition, "updated", actor, uows, engine)


async def set_enabled(
    name: str, enabled: bool, actor: str, uows: UowFactory, engine: RuleEngine
) -> Rule:
    def toggle(current: RuleDefinition) -> RuleDefinition:
        return RuleDefinition(
            current.condition,
            current.action,
            current.params,
            current.priority,
            enabled,
            current.description,
        )

    return await _change(
        name, toggle, "enabled" if enabled else "disabled", actor, uows, engine, skip_same=True
    )


async def _change(
    name: str,
    new: Callable[[RuleDefinition], RuleDefinition],
    change: str,
    actor: str,
    uows: UowFactory,
    engine: RuleEngine,
    *,
    skip_same: bool = False,
) -> Rule:
    async with uows() as uow:
        current = await uow.rules.get(name, lock=True)
        if current is None:
            raise errors.NotFound(f"rule {name!r} does not exist")
        definition = new(current.definition)
        if skip_same and definition == current.definition:
            return current
        rule = Rule(name, definition, current.version + 1, datetime.now(UTC), actor or "unknown")
        if not await uow.rules.write(rule, change):
            raise errors.Conflict(f"rule {name!r} changed concurrently; retry")
        await uow.commit()
    await engine.refresh(uows)
    return rule
