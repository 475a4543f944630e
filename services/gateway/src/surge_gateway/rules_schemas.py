"""JSON shapes of `/v1/rules` and `/v1/reviews` (docs/rules.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from surge_gateway.schemas import PRINTABLE, Money

__all__ = [
    "ActionName",
    "RejectRequest",
    "ReviewDecision",
    "ReviewPage",
    "ReviewPublic",
    "RuleAudit",
    "RuleCreate",
    "RuleDetail",
    "RuleList",
    "RulePublic",
    "RuleUpdate",
]

ActionName = Literal["require_review", "tag", "route_warehouse", "choose_carrier", "notify", "hold"]
RuleName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["velocity"])]
ParamValue = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class RuleUpdate(BaseModel):
    """A rule's definition: a CEL condition over the order context and what to do."""

    model_config = ConfigDict(extra="forbid")

    condition: Annotated[
        str, Field(min_length=1, max_length=2000, examples=["order.total_minor > 500000"])
    ]
    action: ActionName
    params: dict[Literal["tag", "warehouse", "carrier"], ParamValue] = Field(
        default_factory=dict,
        description='"tag" (any action), "warehouse" (route_warehouse), "carrier" (choose_carrier)',
    )
    priority: Annotated[int, Field(ge=-10_000, le=10_000)] = 0
    enabled: bool = True
    description: Annotated[str, Field(max_length=500)] = ""


class RuleCreate(RuleUpdate):
    name: RuleName


class RulePublic(BaseModel):
    name: str
    condition: str
    action: str
    params: dict[str, str]
    priority: int
    enabled: bool
    description: str
    version: int
    updated_at: datetime | None
    updated_by: str


class RuleAudit(BaseModel):
    version: int
    change: str = Field(description='"created", "updated", "enabled" or "disabled"')
    actor: str
    at: datetime | None


class RuleList(BaseModel):
    items: list[RulePublic]
    rule_set_version: int


class RuleDetail(RulePublic):
    versions: list[RulePublic] = Field(description="every version, newest first")
    audit: list[RuleAudit] = Field(description="every change, newest first")


class ReviewPublic(BaseModel):
    order_id: str
    reasons: list[str] = Field(description="names of the rules that held the order")
    status: Literal["pending", "approved", "rejected"]
    order_status: str | None
    customer_id: str
    channel: str
    total: Money
    tags: list[str]
    held_at: datetime | None
    escalated_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    note: str | None


class ReviewPage(BaseModel):
    items: list[ReviewPublic]
    next_cursor: str | None = Field(description="pass as cursor for the next page")


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(max_length=2000, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(min_length=1, max_length=2000, pattern=PRINTABLE)]
