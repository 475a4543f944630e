"""In-memory RuleService and ReviewService stubs for gateway unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from surge.common.v1 import common_pb2
from surge.order.v1 import rules_pb2

from tests.unit.gateway.fakes import rpc_error


@dataclass
class FakeRules:
    rules: dict[str, rules_pb2.Rule] = field(
        default_factory=lambda: {
            "velocity": rules_pb2.Rule(
                name="velocity",
                condition="recent.phone_orders_10m > 3",
                action=rules_pb2.RULE_ACTION_REQUIRE_REVIEW,
                params={"tag": "velocity"},
                priority=90,
                enabled=True,
                version=1,
                updated_by="migration",
            )
        }
    )
    calls: list[Any] = field(default_factory=list)

    async def ListRules(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return rules_pb2.ListRulesResponse(rules=list(self.rules.values()), rule_set_version=1)

    def _get(self, name: str) -> rules_pb2.Rule:
        if name not in self.rules:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, f"rule {name!r} does not exist")
        return self.rules[name]

    async def GetRule(self, request: Any, timeout: float) -> Any:  # noqa: N802
        rule = self._get(request.name)
        return rules_pb2.GetRuleResponse(rule=rule, versions=[rule])

    def _store(self, name: str, d: rules_pb2.RuleDefinition, version: int, actor: str) -> Any:
        if "nope" in d.condition:
            raise rpc_error(
                grpc.StatusCode.INVALID_ARGUMENT,
                "the rule condition is not valid: unknown field 'nope'",
                {"definition.condition": "unknown field 'nope'"},
            )
        rule = rules_pb2.Rule(
            name=name,
            condition=d.condition,
            action=d.action,
            params=dict(d.params),
            priority=d.priority,
            enabled=d.enabled,
            description=d.description,
            version=version,
            updated_by=actor,
        )
        self.rules[name] = rule
        return rule

    async def CreateRule(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.calls.append(request)
        if request.name in self.rules:
            raise rpc_error(grpc.StatusCode.ALREADY_EXISTS, "taken")
        rule = self._store(request.name, request.definition, 1, request.actor)
        return rules_pb2.CreateRuleResponse(rule=rule)

    async def UpdateRule(self, request: Any, timeout: float) -> Any:  # noqa: N802
        current = self._get(request.name)
        rule = self._store(request.name, request.definition, current.version + 1, request.actor)
        return rules_pb2.UpdateRuleResponse(rule=rule)

    async def SetRuleEnabled(self, request: Any, timeout: float) -> Any:  # noqa: N802
        rule = self._get(request.name)
        rule.enabled = request.enabled
        rule.version += 1
        return rules_pb2.SetRuleEnabledResponse(rule=rule)


@dataclass
class FakeReviews:
    decided: list[tuple[str, str, str, str]] = field(default_factory=list)

    def _review(self, order_id: str, status: int = rules_pb2.REVIEW_STATUS_PENDING) -> Any:
        return rules_pb2.Review(
            order_id=order_id,
            reasons=["velocity"],
            status=status,
            customer_id="alice",
            channel="web",
            total=common_pb2.Money(amount_minor=2000, currency="CNY"),
            tags=["velocity", "review"],
            order_status="ORDER_STATUS_PENDING_REVIEW",
        )

    async def ListReviews(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return rules_pb2.ListReviewsResponse(reviews=[self._review("0193-0001")])

    async def ApproveReview(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.decided.append(("approved", request.order_id, request.actor, request.note))
        review = self._review(request.order_id, rules_pb2.REVIEW_STATUS_APPROVED)
        return rules_pb2.ApproveReviewResponse(review=review)

    async def RejectReview(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.decided.append(("rejected", request.order_id, request.actor, request.note))
        review = self._review(request.order_id, rules_pb2.REVIEW_STATUS_REJECTED)
        return rules_pb2.RejectReviewResponse(review=review)
