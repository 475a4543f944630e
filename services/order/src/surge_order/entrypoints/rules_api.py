"""RuleService and ReviewService over gRPC: request -> handler -> response, and the mapping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.order.v1 import rules_pb2, rules_pb2_grpc
from surge_platform import errors
from surge_platform.logging import get_logger

from surge_order.adapters.rules_repository import AuditRecord, ReviewRecord
from surge_order.domain.rules import Action, Rule, RuleDefinition
from surge_order.service_layer import rules
from surge_order.service_layer.review import ReviewDesk
from surge_order.service_layer.rules import RuleEngine, UowFactory

__all__ = ["ReviewServicer", "RuleServicer"]

Context = grpc.aio.ServicerContext[Any, Any]
_Save = Callable[[str, RuleDefinition, str, UowFactory, RuleEngine], Awaitable[Rule]]
_audit = get_logger("surge.audit")
_ACTIONS = {
    rules_pb2.RULE_ACTION_REQUIRE_REVIEW: Action.REQUIRE_REVIEW,
    rules_pb2.RULE_ACTION_TAG: Action.TAG,
    rules_pb2.RULE_ACTION_ROUTE_WAREHOUSE: Action.ROUTE_WAREHOUSE,
    rules_pb2.RULE_ACTION_CHOOSE_CARRIER: Action.CHOOSE_CARRIER,
    rules_pb2.RULE_ACTION_NOTIFY: Action.NOTIFY,
    rules_pb2.RULE_ACTION_HOLD: Action.HOLD,
}
_ACTION_VALUES = {action: value for value, action in _ACTIONS.items()}
_REVIEW_STATUS = {
    rules_pb2.REVIEW_STATUS_UNSPECIFIED: "pending",
    rules_pb2.REVIEW_STATUS_PENDING: "pending",
    rules_pb2.REVIEW_STATUS_APPROVED: "approved",
    rules_pb2.REVIEW_STATUS_REJECTED: "rejected",
}
_REVIEW_VALUES = {
    "pending": rules_pb2.REVIEW_STATUS_PENDING,
    "approved": rules_pb2.REVIEW_STATUS_APPROVED,
    "rejected": rules_pb2.REVIEW_STATUS_REJECTED,
}


def _ts(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def definition_from_pb(definition: rules_pb2.RuleDefinition) -> RuleDefinition:
    action = _ACTIONS.get(definition.action)
    if action is None:
        raise errors.InvalidArgument(
            "the rule is not valid",
            {"definition.action": f"must be one of {sorted(a.value for a in Action)}"},
        )
    return RuleDefinition(
        condition=definition.condition,
        action=action,
        params=dict(definition.params),
        priority=definition.priority,
        enabled=definition.enabled,
        description=definition.description,
    )


def rule_to_pb(rule: Rule) -> rules_pb2.Rule:
    d = rule.definition
    return rules_pb2.Rule(
        name=rule.name,
        condition=d.condition,
        action=_ACTION_VALUES[d.action],
        params=dict(d.params),
        priority=d.priority,
        enabled=d.enabled,
        version=rule.version,
        description=d.description,
        updated_at=_ts(rule.updated_at),
        updated_by=rule.updated_by,
    )


def audit_to_pb(entry: AuditRecord) -> rules_pb2.RuleAuditEntry:
    return rules_pb2.RuleAuditEntry(
        rule_name=entry.name,
        version=entry.version,
        change=entry.change,
        actor=entry.actor,
        at=_ts(entry.at),
    )


def review_to_pb(review: ReviewRecord) -> rules_pb2.Review:
    message = rules_pb2.Review(
        order_id=review.order_id,
        reasons=list(review.reasons),
        status=_REVIEW_VALUES[review.status],
        held_at=_ts(review.held_at),
        decided_by=review.decided_by,
        note=review.note,
        customer_id=review.customer_id,
        channel=review.channel,
        total=common_pb2.Money(amount_minor=review.total_minor, currency=review.currency),
        tags=list(review.tags),
        order_status=f"ORDER_STATUS_{review.order_status.upper()}",
    )
    if review.escalated_at is not None:
        message.escalated_at.CopyFrom(_ts(review.escalated_at))
    if review.decided_at is not None:
        message.decided_at.CopyFrom(_ts(review.decided_at))
    return message


class RuleServicer(rules_pb2_grpc.RuleServiceServicer):
    def __init__(self, uows: UowFactory, engine: RuleEngine) -> None:
        self._uows = uows
        self._engine = engine

    async def ListRules(  # noqa: N802 - gRPC method name
        self, request: rules_pb2.ListRulesRequest, context: Context
    ) -> rules_pb2.ListRulesResponse:
        found, version = await rules.list_rules(self._uows)
        return rules_pb2.ListRulesResponse(
            rules=[rule_to_pb(r) for r in found], rule_set_version=version
        )

    async def GetRule(  # noqa: N802
        self, request: rules_pb2.GetRuleRequest, context: Context
    ) -> rules_pb2.GetRuleResponse:
        view = await rules.get_rule(request.name, self._uows)
        return rules_pb2.GetRuleResponse(
            rule=rule_to_pb(view.rule),
            versions=[rule_to_pb(v) for v in view.versions],
            audit=[audit_to_pb(a) for a in view.audit],
        )

    async def _save(
        self,
        save: _Save,
        request: rules_pb2.CreateRuleRequest | rules_pb2.UpdateRuleRequest,
        action: str,
    ) -> rules_pb2.Rule:
        definition = definition_from_pb(request.definition)
        rule = await save(request.name, definition, request.actor, self._uows, self._engine)
        _audit.info("audit", actor=request.actor, action=action, target=request.name)
        return rule_to_pb(rule)

    async def CreateRule(  # noqa: N802
        self, request: rules_pb2.CreateRuleRequest, context: Context
    ) -> rules_pb2.CreateRuleResponse:
        rule = await self._save(rules.create_rule, request, "rules.create")
        return rules_pb2.CreateRuleResponse(rule=rule)

    async def UpdateRule(  # noqa: N802
        self, request: rules_pb2.UpdateRuleRequest, context: Context
    ) -> rules_pb2.UpdateRuleResponse:
        rule = await self._save(rules.update_rule, request, "rules.update")
        return rules_pb2.UpdateRuleResponse(rule=rule)

    async def SetRuleEnabled(  # noqa: N802
        self, request: rules_pb2.SetRuleEnabledRequest, context: Context
    ) -> rules_pb2.SetRuleEnabledResponse:
        rule = await rules.set_enabled(
            request.name, request.enabled, request.actor, self._uows, self._engine
        )
        action = "rules.enable" if request.enabled else "rules.disable"
        _audit.info("audit", actor=request.actor, action=action, target=request.name)
        return rules_pb2.SetRuleEnabledResponse(rule=rule_to_pb(rule))


class ReviewServicer(rules_pb2_grpc.ReviewServiceServicer):
    def __init__(self, desk: ReviewDesk) -> None:
        self._desk = desk

    async def ListReviews(  # noqa: N802
        self, request: rules_pb2.ListReviewsRequest, context: Context
    ) -> rules_pb2.ListReviewsResponse:
        status = _REVIEW_STATUS.get(request.status)
        if status is None:
            raise errors.InvalidArgument("bad status", {"status": "unknown review status"})
        page = await self._desk.list(status, request.page_size, request.page_token)
        return rules_pb2.ListReviewsResponse(
            reviews=[review_to_pb(r) for r in page.reviews],
            next_page_token=page.next_page_token,
        )

    async def ApproveReview(  # noqa: N802
        self, request: rules_pb2.ApproveReviewRequest, context: Context
    ) -> rules_pb2.ApproveReviewResponse:
        review = await self._desk.approve(request.order_id, request.actor, request.note)
        return rules_pb2.ApproveReviewResponse(review=review_to_pb(review))

    async def RejectReview(  # noqa: N802
        self, request: rules_pb2.RejectReviewRequest, context: Context
    ) -> rules_pb2.RejectReviewResponse:
        review = await self._desk.reject(request.order_id, request.actor, request.note)
        return rules_pb2.RejectReviewResponse(review=review_to_pb(review))
