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

class SalesGrouping(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SALES_GROUPING_UNSPECIFIED: _ClassVar[SalesGrouping]
    SALES_GROUPING_DAY: _ClassVar[SalesGrouping]
    SALES_GROUPING_CHANNEL: _ClassVar[SalesGrouping]
    SALES_GROUPING_SKU: _ClassVar[SalesGrouping]
    SALES_GROUPING_CUSTOMER: _ClassVar[SalesGrouping]
SALES_GROUPING_UNSPECIFIED: SalesGrouping
SALES_GROUPING_DAY: SalesGrouping
SALES_GROUPING_CHANNEL: SalesGrouping
SALES_GROUPING_SKU: SalesGrouping
SALES_GROUPING_CUSTOMER: SalesGrouping

class SalesRow(_message.Message):
    __slots__ = ("key", "order_count", "gmv", "average_order_value", "refunds", "units")
    KEY_FIELD_NUMBER: _ClassVar[int]
    ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    GMV_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    key: str
    order_count: int
    gmv: _common_pb2.Money
    average_order_value: _common_pb2.Money
    refunds: _common_pb2.Money
    units: int
    def __init__(self, key: _Optional[str] = ..., order_count: _Optional[int] = ..., gmv: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., average_order_value: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refunds: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., units: _Optional[int] = ...) -> None: ...

class GetSalesReportRequest(_message.Message):
    __slots__ = ("period_start", "period_end", "group_by", "time_zone", "channel", "currency")
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    group_by: SalesGrouping
    time_zone: str
    channel: str
    currency: str
    def __init__(self, period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., group_by: _Optional[_Union[SalesGrouping, str]] = ..., time_zone: _Optional[str] = ..., channel: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class GetSalesReportResponse(_message.Message):
    __slots__ = ("rows", "total")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[SalesRow]
    total: SalesRow
    def __init__(self, rows: _Optional[_Iterable[_Union[SalesRow, _Mapping]]] = ..., total: _Optional[_Union[SalesRow, _Mapping]] = ...) -> None: ...
