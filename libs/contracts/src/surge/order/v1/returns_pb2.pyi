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

class ReturnState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_STATE_UNSPECIFIED: _ClassVar[ReturnState]
    RETURN_STATE_REQUESTED: _ClassVar[ReturnState]
    RETURN_STATE_APPROVED: _ClassVar[ReturnState]
    RETURN_STATE_REJECTED: _ClassVar[ReturnState]
    RETURN_STATE_RECEIVED: _ClassVar[ReturnState]
    RETURN_STATE_REFUNDED: _ClassVar[ReturnState]
    RETURN_STATE_FAILED: _ClassVar[ReturnState]

class ReturnKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_KIND_UNSPECIFIED: _ClassVar[ReturnKind]
    RETURN_KIND_RETURN: _ClassVar[ReturnKind]
    RETURN_KIND_REFUND_ONLY: _ClassVar[ReturnKind]
RETURN_STATE_UNSPECIFIED: ReturnState
RETURN_STATE_REQUESTED: ReturnState
RETURN_STATE_APPROVED: ReturnState
RETURN_STATE_REJECTED: ReturnState
RETURN_STATE_RECEIVED: ReturnState
RETURN_STATE_REFUNDED: ReturnState
RETURN_STATE_FAILED: ReturnState
RETURN_KIND_UNSPECIFIED: ReturnKind
RETURN_KIND_RETURN: ReturnKind
RETURN_KIND_REFUND_ONLY: ReturnKind

class ReturnLine(_message.Message):
    __slots__ = ("sku", "quantity", "resellable_quantity", "damaged_quantity", "amount")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    RESELLABLE_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    resellable_quantity: int
    damaged_quantity: int
    amount: _common_pb2.Money
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., resellable_quantity: _Optional[int] = ..., damaged_quantity: _Optional[int] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class OrderReturn(_message.Message):
    __slots__ = ("id", "order_id", "customer_id", "kind", "state", "reason", "lines", "amount", "requested_by", "note", "step", "credit_note_id", "credit_note_number", "failure_reason", "requested_at", "decided_at", "received_at", "refunded_at", "escalated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    CREDIT_NOTE_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_NOTE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AT_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    order_id: str
    customer_id: str
    kind: ReturnKind
    state: ReturnState
    reason: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    amount: _common_pb2.Money
    requested_by: str
    note: str
    step: str
    credit_note_id: str
    credit_note_number: str
    failure_reason: str
    requested_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    received_at: _timestamp_pb2.Timestamp
    refunded_at: _timestamp_pb2.Timestamp
    escalated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., kind: _Optional[_Union[ReturnKind, str]] = ..., state: _Optional[_Union[ReturnState, str]] = ..., reason: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., requested_by: _Optional[str] = ..., note: _Optional[str] = ..., step: _Optional[str] = ..., credit_note_id: _Optional[str] = ..., credit_note_number: _Optional[str] = ..., failure_reason: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refunded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., escalated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReturnLineRequest(_message.Message):
    __slots__ = ("sku", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class RequestReturnRequest(_message.Message):
    __slots__ = ("order_id", "kind", "reason", "lines", "actor")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    kind: ReturnKind
    reason: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLineRequest]
    actor: str
    def __init__(self, order_id: _Optional[str] = ..., kind: _Optional[_Union[ReturnKind, str]] = ..., reason: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnLineRequest, _Mapping]]] = ..., actor: _Optional[str] = ...) -> None: ...

class RequestReturnResponse(_message.Message):
    __slots__ = ("order_return",)
    ORDER_RETURN_FIELD_NUMBER: _ClassVar[int]
    order_return: OrderReturn
    def __init__(self, order_return: _Optional[_Union[OrderReturn, _Mapping]] = ...) -> None: ...

class GetReturnRequest(_message.Message):
    __slots__ = ("return_id",)
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    def __init__(self, return_id: _Optional[str] = ...) -> None: ...

class GetReturnResponse(_message.Message):
    __slots__ = ("order_return",)
    ORDER_RETURN_FIELD_NUMBER: _ClassVar[int]
    order_return: OrderReturn
    def __init__(self, order_return: _Optional[_Union[OrderReturn, _Mapping]] = ...) -> None: ...

class ListReturnsRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class ListReturnsResponse(_message.Message):
    __slots__ = ("returns",)
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    returns: _containers.RepeatedCompositeFieldContainer[OrderReturn]
    def __init__(self, returns: _Optional[_Iterable[_Union[OrderReturn, _Mapping]]] = ...) -> None: ...

class ApproveReturnRequest(_message.Message):
    __slots__ = ("return_id", "actor", "note")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    actor: str
    note: str
    def __init__(self, return_id: _Optional[str] = ..., actor: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ApproveReturnResponse(_message.Message):
    __slots__ = ("order_return",)
    ORDER_RETURN_FIELD_NUMBER: _ClassVar[int]
    order_return: OrderReturn
    def __init__(self, order_return: _Optional[_Union[OrderReturn, _Mapping]] = ...) -> None: ...

class RejectReturnRequest(_message.Message):
    __slots__ = ("return_id", "actor", "note")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    actor: str
    note: str
    def __init__(self, return_id: _Optional[str] = ..., actor: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RejectReturnResponse(_message.Message):
    __slots__ = ("order_return",)
    ORDER_RETURN_FIELD_NUMBER: _ClassVar[int]
    order_return: OrderReturn
    def __init__(self, order_return: _Optional[_Union[OrderReturn, _Mapping]] = ...) -> None: ...

class ReceivedLine(_message.Message):
    __slots__ = ("sku", "resellable_quantity", "damaged_quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    RESELLABLE_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    resellable_quantity: int
    damaged_quantity: int
    def __init__(self, sku: _Optional[str] = ..., resellable_quantity: _Optional[int] = ..., damaged_quantity: _Optional[int] = ...) -> None: ...

class ReceiveReturnRequest(_message.Message):
    __slots__ = ("return_id", "actor", "lines")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    actor: str
    lines: _containers.RepeatedCompositeFieldContainer[ReceivedLine]
    def __init__(self, return_id: _Optional[str] = ..., actor: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReceivedLine, _Mapping]]] = ...) -> None: ...

class ReceiveReturnResponse(_message.Message):
    __slots__ = ("order_return",)
    ORDER_RETURN_FIELD_NUMBER: _ClassVar[int]
    order_return: OrderReturn
    def __init__(self, order_return: _Optional[_Union[OrderReturn, _Mapping]] = ...) -> None: ...

class ReturnEscalated(_message.Message):
    __slots__ = ("return_id", "order_id", "state", "requested_at")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    state: ReturnState
    requested_at: _timestamp_pb2.Timestamp
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., state: _Optional[_Union[ReturnState, str]] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
