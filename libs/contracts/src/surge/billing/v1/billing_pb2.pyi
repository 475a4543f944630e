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

class InvoiceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_STATUS_UNSPECIFIED: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_ISSUED: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_PAID: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_VOID: _ClassVar[InvoiceStatus]

class InvoiceRejectionCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_REJECTION_CODE_UNSPECIFIED: _ClassVar[InvoiceRejectionCode]
    INVOICE_REJECTION_CODE_CREDIT_LIMIT_EXCEEDED: _ClassVar[InvoiceRejectionCode]
    INVOICE_REJECTION_CODE_INVALID_INVOICE: _ClassVar[InvoiceRejectionCode]
INVOICE_STATUS_UNSPECIFIED: InvoiceStatus
INVOICE_STATUS_ISSUED: InvoiceStatus
INVOICE_STATUS_PAID: InvoiceStatus
INVOICE_STATUS_VOID: InvoiceStatus
INVOICE_REJECTION_CODE_UNSPECIFIED: InvoiceRejectionCode
INVOICE_REJECTION_CODE_CREDIT_LIMIT_EXCEEDED: InvoiceRejectionCode
INVOICE_REJECTION_CODE_INVALID_INVOICE: InvoiceRejectionCode

class InvoiceLine(_message.Message):
    __slots__ = ("sku", "description", "quantity", "unit_price", "discount", "tax", "amount")
    SKU_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    sku: str
    description: str
    quantity: int
    unit_price: _common_pb2.Money
    discount: _common_pb2.Money
    tax: _common_pb2.Money
    amount: _common_pb2.Money
    def __init__(self, sku: _Optional[str] = ..., description: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ("id", "number", "order_id", "customer_id", "status", "payment_terms", "lines", "subtotal", "tax", "total", "issued_at", "voided_at", "void_reason", "discount_total", "due_at", "paid_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    VOIDED_AT_FIELD_NUMBER: _ClassVar[int]
    VOID_REASON_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    PAID_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    order_id: str
    customer_id: str
    status: InvoiceStatus
    payment_terms: _common_pb2.PaymentTerms
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    subtotal: _common_pb2.Money
    tax: _common_pb2.Money
    total: _common_pb2.Money
    issued_at: _timestamp_pb2.Timestamp
    voided_at: _timestamp_pb2.Timestamp
    void_reason: str
    discount_total: _common_pb2.Money
    due_at: _timestamp_pb2.Timestamp
    paid_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[_Union[InvoiceStatus, str]] = ..., payment_terms: _Optional[_Union[_common_pb2.PaymentTerms, str]] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., voided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., void_reason: _Optional[str] = ..., discount_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., paid_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("id", "order_id", "amount", "method", "reference", "received_at", "customer_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    order_id: str
    amount: _common_pb2.Money
    method: str
    reference: str
    received_at: _timestamp_pb2.Timestamp
    customer_id: str
    def __init__(self, id: _Optional[str] = ..., order_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., method: _Optional[str] = ..., reference: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ...) -> None: ...

class Credit(_message.Message):
    __slots__ = ("customer_id", "limit", "used", "available")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    limit: _common_pb2.Money
    used: _common_pb2.Money
    available: _common_pb2.Money
    def __init__(self, customer_id: _Optional[str] = ..., limit: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., used: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., available: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class GetInvoiceRequest(_message.Message):
    __slots__ = ("invoice_id",)
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    def __init__(self, invoice_id: _Optional[str] = ...) -> None: ...

class GetInvoiceResponse(_message.Message):
    __slots__ = ("invoice",)
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    invoice: Invoice
    def __init__(self, invoice: _Optional[_Union[Invoice, _Mapping]] = ...) -> None: ...

class ListInvoicesRequest(_message.Message):
    __slots__ = ("order_id", "customer_id", "status", "page_size", "page_token")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    status: InvoiceStatus
    page_size: int
    page_token: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[_Union[InvoiceStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListInvoicesResponse(_message.Message):
    __slots__ = ("invoices", "next_page_token")
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[Invoice]
    next_page_token: str
    def __init__(self, invoices: _Optional[_Iterable[_Union[Invoice, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordPaymentRequest(_message.Message):
    __slots__ = ("order_id", "customer_id", "amount", "method", "reference")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    amount: _common_pb2.Money
    method: str
    reference: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., method: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class RecordPaymentResponse(_message.Message):
    __slots__ = ("payment",)
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    payment: Payment
    def __init__(self, payment: _Optional[_Union[Payment, _Mapping]] = ...) -> None: ...

class SetCreditLimitRequest(_message.Message):
    __slots__ = ("customer_id", "limit", "actor")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    limit: _common_pb2.Money
    actor: str
    def __init__(self, customer_id: _Optional[str] = ..., limit: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class SetCreditLimitResponse(_message.Message):
    __slots__ = ("credit",)
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    credit: Credit
    def __init__(self, credit: _Optional[_Union[Credit, _Mapping]] = ...) -> None: ...

class GetCreditRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class GetCreditResponse(_message.Message):
    __slots__ = ("credit",)
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    credit: Credit
    def __init__(self, credit: _Optional[_Union[Credit, _Mapping]] = ...) -> None: ...

class IssueInvoiceCommand(_message.Message):
    __slots__ = ("saga_id", "order_id", "customer_id", "payment_terms", "lines", "total")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    customer_id: str
    payment_terms: _common_pb2.PaymentTerms
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    total: _common_pb2.Money
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., payment_terms: _Optional[_Union[_common_pb2.PaymentTerms, str]] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class InvoiceIssued(_message.Message):
    __slots__ = ("saga_id", "order_id", "invoice_id", "number", "total")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    invoice_id: str
    number: str
    total: _common_pb2.Money
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., number: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class InvoiceRejected(_message.Message):
    __slots__ = ("saga_id", "order_id", "reason", "code")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    reason: str
    code: InvoiceRejectionCode
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ..., code: _Optional[_Union[InvoiceRejectionCode, str]] = ...) -> None: ...

class VoidInvoiceCommand(_message.Message):
    __slots__ = ("saga_id", "order_id", "reason")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    reason: str
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class InvoiceVoided(_message.Message):
    __slots__ = ("saga_id", "order_id", "invoice_id")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    invoice_id: str
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., invoice_id: _Optional[str] = ...) -> None: ...

class PaymentRecorded(_message.Message):
    __slots__ = ("order_id", "payment_id", "amount")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    payment_id: str
    amount: _common_pb2.Money
    def __init__(self, order_id: _Optional[str] = ..., payment_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class RecordPaymentCommand(_message.Message):
    __slots__ = ("order_id", "customer_id", "payment_id", "amount", "method", "reference")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    payment_id: str
    amount: _common_pb2.Money
    method: str
    reference: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., payment_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., method: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...
