import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from surge.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreditNoteLine(_message.Message):
    __slots__ = ("sku", "quantity", "amount")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    amount: _common_pb2.Money
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class CreditNote(_message.Message):
    __slots__ = ("id", "number", "invoice_id", "invoice_number", "order_id", "customer_id", "return_id", "reason", "lines", "total", "issued_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    invoice_id: str
    invoice_number: str
    order_id: str
    customer_id: str
    return_id: str
    reason: str
    lines: _containers.RepeatedCompositeFieldContainer[CreditNoteLine]
    total: _common_pb2.Money
    issued_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., invoice_id: _Optional[str] = ..., invoice_number: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., return_id: _Optional[str] = ..., reason: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CreditNoteLine, _Mapping]]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("id", "order_id", "customer_id", "source_id", "credit_note_id", "amount", "reason", "refunded_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_NOTE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    order_id: str
    customer_id: str
    source_id: str
    credit_note_id: str
    amount: _common_pb2.Money
    reason: str
    refunded_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., source_id: _Optional[str] = ..., credit_note_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., reason: _Optional[str] = ..., refunded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderBalance(_message.Message):
    __slots__ = ("order_id", "invoiced", "credited", "paid", "refunded", "balance")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICED_FIELD_NUMBER: _ClassVar[int]
    CREDITED_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    invoiced: _common_pb2.Money
    credited: _common_pb2.Money
    paid: _common_pb2.Money
    refunded: _common_pb2.Money
    balance: _common_pb2.Money
    def __init__(self, order_id: _Optional[str] = ..., invoiced: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., credited: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., paid: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refunded: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class GetCreditNoteRequest(_message.Message):
    __slots__ = ("credit_note_id",)
    CREDIT_NOTE_ID_FIELD_NUMBER: _ClassVar[int]
    credit_note_id: str
    def __init__(self, credit_note_id: _Optional[str] = ...) -> None: ...

class GetCreditNoteResponse(_message.Message):
    __slots__ = ("credit_note",)
    CREDIT_NOTE_FIELD_NUMBER: _ClassVar[int]
    credit_note: CreditNote
    def __init__(self, credit_note: _Optional[_Union[CreditNote, _Mapping]] = ...) -> None: ...

class ListCreditNotesRequest(_message.Message):
    __slots__ = ("order_id", "customer_id", "page_size", "page_token")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCreditNotesResponse(_message.Message):
    __slots__ = ("credit_notes", "next_page_token")
    CREDIT_NOTES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    credit_notes: _containers.RepeatedCompositeFieldContainer[CreditNote]
    next_page_token: str
    def __init__(self, credit_notes: _Optional[_Iterable[_Union[CreditNote, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListRefundsRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class ListRefundsResponse(_message.Message):
    __slots__ = ("refunds",)
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    refunds: _containers.RepeatedCompositeFieldContainer[Refund]
    def __init__(self, refunds: _Optional[_Iterable[_Union[Refund, _Mapping]]] = ...) -> None: ...

class GetOrderBalanceRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderBalanceResponse(_message.Message):
    __slots__ = ("balance",)
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    balance: OrderBalance
    def __init__(self, balance: _Optional[_Union[OrderBalance, _Mapping]] = ...) -> None: ...

class IssueCreditNoteCommand(_message.Message):
    __slots__ = ("return_id", "order_id", "customer_id", "reason", "lines", "total")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    customer_id: str
    reason: str
    lines: _containers.RepeatedCompositeFieldContainer[CreditNoteLine]
    total: _common_pb2.Money
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., reason: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CreditNoteLine, _Mapping]]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class CreditNoteIssued(_message.Message):
    __slots__ = ("return_id", "order_id", "credit_note", "refund")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_NOTE_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    credit_note: CreditNote
    refund: Refund
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., credit_note: _Optional[_Union[CreditNote, _Mapping]] = ..., refund: _Optional[_Union[Refund, _Mapping]] = ...) -> None: ...

class CreditNoteRejected(_message.Message):
    __slots__ = ("return_id", "order_id", "reason")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    reason: str
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RefundCancelledOrderCommand(_message.Message):
    __slots__ = ("order_id", "customer_id", "amount", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    amount: _common_pb2.Money
    reason: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class PaymentRefunded(_message.Message):
    __slots__ = ("order_id", "refund")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    refund: Refund
    def __init__(self, order_id: _Optional[str] = ..., refund: _Optional[_Union[Refund, _Mapping]] = ...) -> None: ...
