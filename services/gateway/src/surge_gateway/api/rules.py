"""`/v1/rules` (admin): the order rules — list, create, read with versions and audit, replace
(a new version), enable and disable. A condition that does not compile or names an unknown field
is refused with 422 and the CEL error; the rule in force stays as it was."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from surge.order.v1 import rules_pb2

from surge_gateway import convert
from surge_gateway.api.deps import Downstreams, IdempotencyKey, Idempotent, run_once
from surge_gateway.auth import Principal, Role, allow
from surge_gateway.idempotency import StoredResponse
from surge_gateway.rules_schemas import (
    RuleAudit,
    RuleCreate,
    RuleDetail,
    RuleList,
    RulePublic,
    RuleUpdate,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/rules", tags=["rules"])

Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]
Name = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
_ACTIONS = {
    "require_review": rules_pb2.RULE_ACTION_REQUIRE_REVIEW,
    "tag": rules_pb2.RULE_ACTION_TAG,
    "route_warehouse": rules_pb2.RULE_ACTION_ROUTE_WAREHOUSE,
    "choose_carrier": rules_pb2.RULE_ACTION_CHOOSE_CARRIER,
    "notify": rules_pb2.RULE_ACTION_NOTIFY,
    "hold": rules_pb2.RULE_ACTION_HOLD,
}
_ACTION_NAMES = {value: name for name, value in _ACTIONS.items()}


def _definition(body: RuleUpdate) -> rules_pb2.RuleDefinition:
    return rules_pb2.RuleDefinition(
        condition=body.condition,
        action=_ACTIONS[body.action],
        params={str(k): v for k, v in body.params.items()},
        priority=body.priority,
        enabled=body.enabled,
        description=body.description,
    )


def rule_public(rule: rules_pb2.Rule) -> RulePublic:
    return RulePublic(
        name=rule.name,
        condition=rule.condition,
        action=_ACTION_NAMES.get(rule.action, "unspecified"),
        params=dict(rule.params),
        priority=rule.priority,
        enabled=rule.enabled,
        description=rule.description,
        version=rule.version,
        updated_at=convert.timestamp(rule.updated_at),
        updated_by=rule.updated_by,
    )


@router.get("", response_model=RuleList, summary="Every order rule, highest priority first")
async def list_rules(principal: Admin, down: Downstreams) -> RuleList:
    reply = await down.rules.ListRules(rules_pb2.ListRulesRequest(), timeout=down.timeout)
    return RuleList(
        items=[rule_public(r) for r in reply.rules], rule_set_version=reply.rule_set_version
    )


@router.post(
    "",
    status_code=201,
    response_model=RulePublic,
    summary="Create a rule (validated: the CEL condition must compile over the order context)",
)
async def create_rule(
    body: RuleCreate,
    request: Request,
    principal: Admin,
    down: Downstreams,
    key: IdempotencyKey,
    idempotency: Idempotent,
) -> Response:
    async def produce() -> StoredResponse:
        reply = await down.rules.CreateRule(
            rules_pb2.CreateRuleRequest(
                name=body.name, definition=_definition(body), actor=principal.rate_key
            ),
            timeout=down.timeout,
        )
        public = rule_public(reply.rule)
        return StoredResponse(
            201, public.model_dump_json().encode(), {"Location": f"/v1/rules/{body.name}"}
        )

    return await run_once(request, principal, key, idempotency, produce)


@router.get("/{name}", response_model=RuleDetail, summary="A rule with its versions and audit")
async def get_rule(name: Name, principal: Admin, down: Downstreams) -> RuleDetail:
    reply = await down.rules.GetRule(rules_pb2.GetRuleRequest(name=name), timeout=down.timeout)
    return RuleDetail(
        **rule_public(reply.rule).model_dump(),
        versions=[rule_public(v) for v in reply.versions],
        audit=[
            RuleAudit(
                version=a.version,
                change=a.change,
                actor=a.actor,
                at=convert.timestamp(a.at),
            )
            for a in reply.audit
        ],
    )


@router.put("/{name}", response_model=RulePublic, summary="Replace a rule (a new version)")
async def update_rule(
    name: Name, body: RuleUpdate, principal: Admin, down: Downstreams
) -> RulePublic:
    reply = await down.rules.UpdateRule(
        rules_pb2.UpdateRuleRequest(
            name=name, definition=_definition(body), actor=principal.rate_key
        ),
        timeout=down.timeout,
    )
    return rule_public(reply.rule)


async def _set_enabled(
    name: str, enabled: bool, principal: Principal, down: Downstreams
) -> RulePublic:
    reply = await down.rules.SetRuleEnabled(
        rules_pb2.SetRuleEnabledRequest(name=name, enabled=enabled, actor=principal.rate_key),
        timeout=down.timeout,
    )
    return rule_public(reply.rule)


@router.post("/{name}/enable", response_model=RulePublic, summary="Turn a rule on")
async def enable_rule(name: Name, principal: Admin, down: Downstreams) -> RulePublic:
    return await _set_enabled(name, True, principal, down)


@router.post("/{name}/disable", response_model=RulePublic, summary="Turn a rule off")
async def disable_rule(name: Name, principal: Admin, down: Downstreams) -> RulePublic:
    return await _set_enabled(name, False, principal, down)
