import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from surge.billing.v1 import billing_pb2 as _billing_pb2
from surge.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MismatchKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MISMATCH_KIND_UNSPECIFIED: _ClassVar[MismatchKind]
    MISMATCH_KIND_UNPAID_PAST_DUE: _ClassVar[MismatchKind]
    MISMATCH_KIND_PAID_NOT_INVOICED: _ClassVar[MismatchKind]
    MISMATCH_KIND_ORDER_INVOICE_AMOUNT: _ClassVar[MismatchKind]
    MISMATCH_KIND_PAYMENT_AMOUNT: _ClassVar[MismatchKind]
    MISMATCH_KIND_ORDER_NOT_INVOICED: _ClassVar[MismatchKind]
MISMATCH_KIND_UNSPECIFIED: MismatchKind
MISMATCH_KIND_UNPAID_PAST_DUE: MismatchKind
MISMATCH_KIND_PAID_NOT_INVOICED: MismatchKind
MISMATCH_KIND_ORDER_INVOICE_AMOUNT: MismatchKind
MISMATCH_KIND_PAYMENT_AMOUNT: MismatchKind
MISMATCH_KIND_ORDER_NOT_INVOICED: MismatchKind

class ReconciliationMismatch(_message.Message):
    __slots__ = ("kind", "order_id", "customer_id", "order_total", "invoiced", "paid", "invoice_id", "invoice_number", "due_at", "order_status", "detail")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_TOTAL_FIELD_NUMBER: _ClassVar[int]
    INVOICED_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    kind: MismatchKind
    order_id: str
    customer_id: str
    order_total: _common_pb2.Money
    invoiced: _common_pb2.Money
    paid: _common_pb2.Money
    invoice_id: str
    invoice_number: str
    due_at: _timestamp_pb2.Timestamp
    order_status: str
    detail: str
    def __init__(self, kind: _Optional[_Union[MismatchKind, str]] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., invoiced: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., paid: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., invoice_id: _Optional[str] = ..., invoice_number: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., order_status: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class ReconciliationSummary(_message.Message):
    __slots__ = ("order_count", "ordered", "invoiced", "paid", "mismatch_count")
    ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    ORDERED_FIELD_NUMBER: _ClassVar[int]
    INVOICED_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    MISMATCH_COUNT_FIELD_NUMBER: _ClassVar[int]
    order_count: int
    ordered: _common_pb2.Money
    invoiced: _common_pb2.Money
    paid: _common_pb2.Money
    mismatch_count: int
    def __init__(self, order_count: _Optional[int] = ..., ordered: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., invoiced: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., paid: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., mismatch_count: _Optional[int] = ...) -> None: ...

class GetReconciliationRequest(_message.Message):
    __slots__ = ("period_start", "period_end", "as_of", "currency")
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    as_of: _timestamp_pb2.Timestamp
    currency: str
    def __init__(self, period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency: _Optional[str] = ...) -> None: ...

class GetReconciliationResponse(_message.Message):
    __slots__ = ("mismatches", "summary")
    MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    mismatches: _containers.RepeatedCompositeFieldContainer[ReconciliationMismatch]
    summary: ReconciliationSummary
    def __init__(self, mismatches: _Optional[_Iterable[_Union[ReconciliationMismatch, _Mapping]]] = ..., summary: _Optional[_Union[ReconciliationSummary, _Mapping]] = ...) -> None: ...

class AgingRow(_message.Message):
    __slots__ = ("customer_id", "current", "days_1_30", "days_31_60", "days_61_90", "days_over_90", "total", "invoice_count")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    DAYS_1_30_FIELD_NUMBER: _ClassVar[int]
    DAYS_31_60_FIELD_NUMBER: _ClassVar[int]
    DAYS_61_90_FIELD_NUMBER: _ClassVar[int]
    DAYS_OVER_90_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    INVOICE_COUNT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    current: _common_pb2.Money
    days_1_30: _common_pb2.Money
    days_31_60: _common_pb2.Money
    days_61_90: _common_pb2.Money
    days_over_90: _common_pb2.Money
    total: _common_pb2.Money
    invoice_count: int
    def __init__(self, customer_id: _Optional[str] = ..., current: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., days_1_30: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., days_31_60: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., days_61_90: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., days_over_90: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., invoice_count: _Optional[int] = ...) -> None: ...

class GetReceivablesAgingRequest(_message.Message):
    __slots__ = ("as_of", "customer_id")
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    customer_id: str
    def __init__(self, as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ...) -> None: ...

class GetReceivablesAgingResponse(_message.Message):
    __slots__ = ("rows", "total")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[AgingRow]
    total: AgingRow
    def __init__(self, rows: _Optional[_Iterable[_Union[AgingRow, _Mapping]]] = ..., total: _Optional[_Union[AgingRow, _Mapping]] = ...) -> None: ...

class ExportInvoicesRequest(_message.Message):
    __slots__ = ("status", "customer_id", "issued_from", "issued_to")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FROM_FIELD_NUMBER: _ClassVar[int]
    ISSUED_TO_FIELD_NUMBER: _ClassVar[int]
    status: _billing_pb2.InvoiceStatus
    customer_id: str
    issued_from: _timestamp_pb2.Timestamp
    issued_to: _timestamp_pb2.Timestamp
    def __init__(self, status: _Optional[_Union[_billing_pb2.InvoiceStatus, str]] = ..., customer_id: _Optional[str] = ..., issued_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., issued_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExportInvoicesResponse(_message.Message):
    __slots__ = ("invoices",)
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[_billing_pb2.Invoice]
    def __init__(self, invoices: _Optional[_Iterable[_Union[_billing_pb2.Invoice, _Mapping]]] = ...) -> None: ...
