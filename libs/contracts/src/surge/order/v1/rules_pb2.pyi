import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from surge.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RuleAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RULE_ACTION_UNSPECIFIED: _ClassVar[RuleAction]
    RULE_ACTION_REQUIRE_REVIEW: _ClassVar[RuleAction]
    RULE_ACTION_TAG: _ClassVar[RuleAction]
    RULE_ACTION_ROUTE_WAREHOUSE: _ClassVar[RuleAction]
    RULE_ACTION_CHOOSE_CARRIER: _ClassVar[RuleAction]
    RULE_ACTION_NOTIFY: _ClassVar[RuleAction]
    RULE_ACTION_HOLD: _ClassVar[RuleAction]

class ReviewStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_STATUS_UNSPECIFIED: _ClassVar[ReviewStatus]
    REVIEW_STATUS_PENDING: _ClassVar[ReviewStatus]
    REVIEW_STATUS_APPROVED: _ClassVar[ReviewStatus]
    REVIEW_STATUS_REJECTED: _ClassVar[ReviewStatus]
RULE_ACTION_UNSPECIFIED: RuleAction
RULE_ACTION_REQUIRE_REVIEW: RuleAction
RULE_ACTION_TAG: RuleAction
RULE_ACTION_ROUTE_WAREHOUSE: RuleAction
RULE_ACTION_CHOOSE_CARRIER: RuleAction
RULE_ACTION_NOTIFY: RuleAction
RULE_ACTION_HOLD: RuleAction
REVIEW_STATUS_UNSPECIFIED: ReviewStatus
REVIEW_STATUS_PENDING: ReviewStatus
REVIEW_STATUS_APPROVED: ReviewStatus
REVIEW_STATUS_REJECTED: ReviewStatus

class Rule(_message.Message):
    __slots__ = ("name", "condition", "action", "params", "priority", "enabled", "version", "description", "updated_at", "updated_by")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    condition: str
    action: RuleAction
    params: _containers.ScalarMap[str, str]
    priority: int
    enabled: bool
    version: int
    description: str
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, name: _Optional[str] = ..., condition: _Optional[str] = ..., action: _Optional[_Union[RuleAction, str]] = ..., params: _Optional[_Mapping[str, str]] = ..., priority: _Optional[int] = ..., enabled: bool = ..., version: _Optional[int] = ..., description: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class RuleAuditEntry(_message.Message):
    __slots__ = ("rule_name", "version", "change", "actor", "at")
    RULE_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    rule_name: str
    version: int
    change: str
    actor: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, rule_name: _Optional[str] = ..., version: _Optional[int] = ..., change: _Optional[str] = ..., actor: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RuleDefinition(_message.Message):
    __slots__ = ("condition", "action", "params", "priority", "enabled", "description")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    condition: str
    action: RuleAction
    params: _containers.ScalarMap[str, str]
    priority: int
    enabled: bool
    description: str
    def __init__(self, condition: _Optional[str] = ..., action: _Optional[_Union[RuleAction, str]] = ..., params: _Optional[_Mapping[str, str]] = ..., priority: _Optional[int] = ..., enabled: bool = ..., description: _Optional[str] = ...) -> None: ...

class ListRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRulesResponse(_message.Message):
    __slots__ = ("rules", "rule_set_version")
    RULES_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[Rule]
    rule_set_version: int
    def __init__(self, rules: _Optional[_Iterable[_Union[Rule, _Mapping]]] = ..., rule_set_version: _Optional[int] = ...) -> None: ...

class GetRuleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRuleResponse(_message.Message):
    __slots__ = ("rule", "versions", "audit")
    RULE_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    rule: Rule
    versions: _containers.RepeatedCompositeFieldContainer[Rule]
    audit: _containers.RepeatedCompositeFieldContainer[RuleAuditEntry]
    def __init__(self, rule: _Optional[_Union[Rule, _Mapping]] = ..., versions: _Optional[_Iterable[_Union[Rule, _Mapping]]] = ..., audit: _Optional[_Iterable[_Union[RuleAuditEntry, _Mapping]]] = ...) -> None: ...

class CreateRuleRequest(_message.Message):
    __slots__ = ("name", "definition", "actor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    definition: RuleDefinition
    actor: str
    def __init__(self, name: _Optional[str] = ..., definition: _Optional[_Union[RuleDefinition, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class CreateRuleResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: Rule
    def __init__(self, rule: _Optional[_Union[Rule, _Mapping]] = ...) -> None: ...

class UpdateRuleRequest(_message.Message):
    __slots__ = ("name", "definition", "actor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    definition: RuleDefinition
    actor: str
    def __init__(self, name: _Optional[str] = ..., definition: _Optional[_Union[RuleDefinition, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class UpdateRuleResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: Rule
    def __init__(self, rule: _Optional[_Union[Rule, _Mapping]] = ...) -> None: ...

class SetRuleEnabledRequest(_message.Message):
    __slots__ = ("name", "enabled", "actor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    enabled: bool
    actor: str
    def __init__(self, name: _Optional[str] = ..., enabled: bool = ..., actor: _Optional[str] = ...) -> None: ...

class SetRuleEnabledResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: Rule
    def __init__(self, rule: _Optional[_Union[Rule, _Mapping]] = ...) -> None: ...

class Review(_message.Message):
    __slots__ = ("order_id", "reasons", "status", "held_at", "escalated_at", "decided_at", "decided_by", "note", "customer_id", "channel", "total", "tags", "order_status")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HELD_AT_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATUS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reasons: _containers.RepeatedScalarFieldContainer[str]
    status: ReviewStatus
    held_at: _timestamp_pb2.Timestamp
    escalated_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    decided_by: str
    note: str
    customer_id: str
    channel: str
    total: _common_pb2.Money
    tags: _containers.RepeatedScalarFieldContainer[str]
    order_status: str
    def __init__(self, order_id: _Optional[str] = ..., reasons: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[ReviewStatus, str]] = ..., held_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., escalated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., note: _Optional[str] = ..., customer_id: _Optional[str] = ..., channel: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., order_status: _Optional[str] = ...) -> None: ...

class ListReviewsRequest(_message.Message):
    __slots__ = ("status", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: ReviewStatus
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[ReviewStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReviewsResponse(_message.Message):
    __slots__ = ("reviews", "next_page_token")
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reviews: _containers.RepeatedCompositeFieldContainer[Review]
    next_page_token: str
    def __init__(self, reviews: _Optional[_Iterable[_Union[Review, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ApproveReviewRequest(_message.Message):
    __slots__ = ("order_id", "actor", "note")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    actor: str
    note: str
    def __init__(self, order_id: _Optional[str] = ..., actor: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ApproveReviewResponse(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: Review
    def __init__(self, review: _Optional[_Union[Review, _Mapping]] = ...) -> None: ...

class RejectReviewRequest(_message.Message):
    __slots__ = ("order_id", "actor", "note")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    actor: str
    note: str
    def __init__(self, order_id: _Optional[str] = ..., actor: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RejectReviewResponse(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: Review
    def __init__(self, review: _Optional[_Union[Review, _Mapping]] = ...) -> None: ...

class OrderFlagged(_message.Message):
    __slots__ = ("order_id", "rule", "customer_id", "channel", "total", "tags", "occurred_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    rule: str
    customer_id: str
    channel: str
    total: _common_pb2.Money
    tags: _containers.RepeatedScalarFieldContainer[str]
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., rule: _Optional[str] = ..., customer_id: _Optional[str] = ..., channel: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReviewEscalated(_message.Message):
    __slots__ = ("order_id", "reasons", "held_at", "escalated_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    HELD_AT_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reasons: _containers.RepeatedScalarFieldContainer[str]
    held_at: _timestamp_pb2.Timestamp
    escalated_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., reasons: _Optional[_Iterable[str]] = ..., held_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., escalated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReviewDecided(_message.Message):
    __slots__ = ("order_id", "status", "actor", "note", "decided_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    status: ReviewStatus
    actor: str
    note: str
    decided_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., status: _Optional[_Union[ReviewStatus, str]] = ..., actor: _Optional[str] = ..., note: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
