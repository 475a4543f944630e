from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RestockLine(_message.Message):
    __slots__ = ("sku", "warehouse", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    warehouse: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., warehouse: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class RestockReturnCommand(_message.Message):
    __slots__ = ("return_id", "order_id", "lines")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    lines: _containers.RepeatedCompositeFieldContainer[RestockLine]
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[RestockLine, _Mapping]]] = ...) -> None: ...

class ReturnRestocked(_message.Message):
    __slots__ = ("return_id", "order_id")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ...) -> None: ...

class ReverseRestockCommand(_message.Message):
    __slots__ = ("return_id", "order_id", "reason")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    reason: str
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RestockReversed(_message.Message):
    __slots__ = ("return_id", "order_id", "shortfall")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHORTFALL_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    shortfall: _containers.RepeatedCompositeFieldContainer[RestockLine]
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., shortfall: _Optional[_Iterable[_Union[RestockLine, _Mapping]]] = ...) -> None: ...
