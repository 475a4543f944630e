import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from surge.common.v1 import common_pb2 as _common_pb2
from surge.order.v1 import promotions_pb2 as _promotions_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_PAYMENT: _ClassVar[OrderStatus]
    ORDER_STATUS_PAID: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_REVIEW: _ClassVar[OrderStatus]
    ORDER_STATUS_RESERVING: _ClassVar[OrderStatus]
    ORDER_STATUS_AWAITING_SHIPMENT: _ClassVar[OrderStatus]
    ORDER_STATUS_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_DELIVERED: _ClassVar[OrderStatus]
    ORDER_STATUS_COMPLETED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_CLOSED: _ClassVar[OrderStatus]
    ORDER_STATUS_REFUND_REQUESTED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_REFUNDED: _ClassVar[OrderStatus]
    ORDER_STATUS_REFUNDED: _ClassVar[OrderStatus]

class SagaState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAGA_STATE_UNSPECIFIED: _ClassVar[SagaState]
    SAGA_STATE_RUNNING: _ClassVar[SagaState]
    SAGA_STATE_AWAITING_PAYMENT: _ClassVar[SagaState]
    SAGA_STATE_COMPLETED: _ClassVar[SagaState]
    SAGA_STATE_COMPENSATING: _ClassVar[SagaState]
    SAGA_STATE_COMPENSATED: _ClassVar[SagaState]
    SAGA_STATE_COMPENSATION_FAILED: _ClassVar[SagaState]
    SAGA_STATE_AWAITING_REVIEW: _ClassVar[SagaState]

class SagaDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAGA_DIRECTION_UNSPECIFIED: _ClassVar[SagaDirection]
    SAGA_DIRECTION_FORWARD: _ClassVar[SagaDirection]
    SAGA_DIRECTION_COMPENSATE: _ClassVar[SagaDirection]

class SagaStepStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAGA_STEP_STATUS_UNSPECIFIED: _ClassVar[SagaStepStatus]
    SAGA_STEP_STATUS_STARTED: _ClassVar[SagaStepStatus]
    SAGA_STEP_STATUS_SUCCEEDED: _ClassVar[SagaStepStatus]
    SAGA_STEP_STATUS_FAILED: _ClassVar[SagaStepStatus]

class SagaFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAGA_FILTER_UNSPECIFIED: _ClassVar[SagaFilter]
    SAGA_FILTER_PARKED: _ClassVar[SagaFilter]
    SAGA_FILTER_STUCK: _ClassVar[SagaFilter]
    SAGA_FILTER_RUNNING: _ClassVar[SagaFilter]
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PENDING_PAYMENT: OrderStatus
ORDER_STATUS_PAID: OrderStatus
ORDER_STATUS_PENDING_REVIEW: OrderStatus
ORDER_STATUS_RESERVING: OrderStatus
ORDER_STATUS_AWAITING_SHIPMENT: OrderStatus
ORDER_STATUS_SHIPPED: OrderStatus
ORDER_STATUS_DELIVERED: OrderStatus
ORDER_STATUS_COMPLETED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
ORDER_STATUS_CLOSED: OrderStatus
ORDER_STATUS_REFUND_REQUESTED: OrderStatus
ORDER_STATUS_PARTIALLY_REFUNDED: OrderStatus
ORDER_STATUS_REFUNDED: OrderStatus
SAGA_STATE_UNSPECIFIED: SagaState
SAGA_STATE_RUNNING: SagaState
SAGA_STATE_AWAITING_PAYMENT: SagaState
SAGA_STATE_COMPLETED: SagaState
SAGA_STATE_COMPENSATING: SagaState
SAGA_STATE_COMPENSATED: SagaState
SAGA_STATE_COMPENSATION_FAILED: SagaState
SAGA_STATE_AWAITING_REVIEW: SagaState
SAGA_DIRECTION_UNSPECIFIED: SagaDirection
SAGA_DIRECTION_FORWARD: SagaDirection
SAGA_DIRECTION_COMPENSATE: SagaDirection
SAGA_STEP_STATUS_UNSPECIFIED: SagaStepStatus
SAGA_STEP_STATUS_STARTED: SagaStepStatus
SAGA_STEP_STATUS_SUCCEEDED: SagaStepStatus
SAGA_STEP_STATUS_FAILED: SagaStepStatus
SAGA_FILTER_UNSPECIFIED: SagaFilter
SAGA_FILTER_PARKED: SagaFilter
SAGA_FILTER_STUCK: SagaFilter
SAGA_FILTER_RUNNING: SagaFilter

class PlaceOrderLine(_message.Message):
    __slots__ = ("sku", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("sku", "name", "quantity", "unit_price", "line_discount", "line_total")
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    LINE_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    LINE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    sku: str
    name: str
    quantity: int
    unit_price: _common_pb2.Money
    line_discount: _common_pb2.Money
    line_total: _common_pb2.Money
    def __init__(self, sku: _Optional[str] = ..., name: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., line_discount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., line_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class SagaStep(_message.Message):
    __slots__ = ("step", "direction", "status", "attempts", "started_at", "finished_at", "failure_reason")
    STEP_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    step: str
    direction: SagaDirection
    status: SagaStepStatus
    attempts: int
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    failure_reason: str
    def __init__(self, step: _Optional[str] = ..., direction: _Optional[_Union[SagaDirection, str]] = ..., status: _Optional[_Union[SagaStepStatus, str]] = ..., attempts: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_reason: _Optional[str] = ...) -> None: ...

class Saga(_message.Message):
    __slots__ = ("id", "state", "current_step", "steps", "started_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_STEP_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: SagaState
    current_step: str
    steps: _containers.RepeatedCompositeFieldContainer[SagaStep]
    started_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[SagaState, str]] = ..., current_step: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[SagaStep, _Mapping]]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatusChange(_message.Message):
    __slots__ = ("from_status", "to_status", "reason", "at")
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    from_status: OrderStatus
    to_status: OrderStatus
    reason: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, from_status: _Optional[_Union[OrderStatus, str]] = ..., to_status: _Optional[_Union[OrderStatus, str]] = ..., reason: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("id", "client_order_id", "channel", "external_id", "customer", "shipping_address", "lines", "subtotal", "discount_total", "total", "payment_terms", "status", "tags", "cancel_reason", "created_at", "updated_at", "version", "saga", "history", "coupon_code", "line_pricing")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SAGA_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODE_FIELD_NUMBER: _ClassVar[int]
    LINE_PRICING_FIELD_NUMBER: _ClassVar[int]
    id: str
    client_order_id: str
    channel: str
    external_id: str
    customer: _common_pb2.Customer
    shipping_address: _common_pb2.Address
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    subtotal: _common_pb2.Money
    discount_total: _common_pb2.Money
    total: _common_pb2.Money
    payment_terms: _common_pb2.PaymentTerms
    status: OrderStatus
    tags: _containers.RepeatedScalarFieldContainer[str]
    cancel_reason: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    version: int
    saga: Saga
    history: _containers.RepeatedCompositeFieldContainer[StatusChange]
    coupon_code: str
    line_pricing: _containers.RepeatedCompositeFieldContainer[_promotions_pb2.OrderLinePricing]
    def __init__(self, id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., channel: _Optional[str] = ..., external_id: _Optional[str] = ..., customer: _Optional[_Union[_common_pb2.Customer, _Mapping]] = ..., shipping_address: _Optional[_Union[_common_pb2.Address, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., discount_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., payment_terms: _Optional[_Union[_common_pb2.PaymentTerms, str]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., tags: _Optional[_Iterable[str]] = ..., cancel_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., saga: _Optional[_Union[Saga, _Mapping]] = ..., history: _Optional[_Iterable[_Union[StatusChange, _Mapping]]] = ..., coupon_code: _Optional[str] = ..., line_pricing: _Optional[_Iterable[_Union[_promotions_pb2.OrderLinePricing, _Mapping]]] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("client_order_id", "channel", "external_id", "customer", "shipping_address", "lines", "payment_terms", "coupon_code", "tags")
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    client_order_id: str
    channel: str
    external_id: str
    customer: _common_pb2.Customer
    shipping_address: _common_pb2.Address
    lines: _containers.RepeatedCompositeFieldContainer[PlaceOrderLine]
    payment_terms: _common_pb2.PaymentTerms
    coupon_code: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_order_id: _Optional[str] = ..., channel: _Optional[str] = ..., external_id: _Optional[str] = ..., customer: _Optional[_Union[_common_pb2.Customer, _Mapping]] = ..., shipping_address: _Optional[_Union[_common_pb2.Address, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[PlaceOrderLine, _Mapping]]] = ..., payment_terms: _Optional[_Union[_common_pb2.PaymentTerms, str]] = ..., coupon_code: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order", "created")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    order: Order
    created: bool
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., created: bool = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("status", "channel", "customer_id", "created_from", "created_to", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FROM_FIELD_NUMBER: _ClassVar[int]
    CREATED_TO_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: OrderStatus
    channel: str
    customer_id: str
    created_from: _timestamp_pb2.Timestamp
    created_to: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[OrderStatus, str]] = ..., channel: _Optional[str] = ..., customer_id: _Optional[str] = ..., created_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id", "reason", "actor")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reason: str
    actor: str
    def __init__(self, order_id: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class RecordPaymentRequest(_message.Message):
    __slots__ = ("order_id", "amount", "method", "reference")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    amount: _common_pb2.Money
    method: str
    reference: str
    def __init__(self, order_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., method: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class RecordPaymentResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class RetrySagaRequest(_message.Message):
    __slots__ = ("order_id", "actor")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    actor: str
    def __init__(self, order_id: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class RetrySagaResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class SagaSummary(_message.Message):
    __slots__ = ("order_id", "saga_id", "state", "current_step", "direction", "step_attempts", "step_started_at", "step_deadline", "failure_reason", "order_status", "age_seconds")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_STEP_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    STEP_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    STEP_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    STEP_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATUS_FIELD_NUMBER: _ClassVar[int]
    AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    saga_id: str
    state: SagaState
    current_step: str
    direction: SagaDirection
    step_attempts: int
    step_started_at: _timestamp_pb2.Timestamp
    step_deadline: _timestamp_pb2.Timestamp
    failure_reason: str
    order_status: OrderStatus
    age_seconds: int
    def __init__(self, order_id: _Optional[str] = ..., saga_id: _Optional[str] = ..., state: _Optional[_Union[SagaState, str]] = ..., current_step: _Optional[str] = ..., direction: _Optional[_Union[SagaDirection, str]] = ..., step_attempts: _Optional[int] = ..., step_started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., step_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_reason: _Optional[str] = ..., order_status: _Optional[_Union[OrderStatus, str]] = ..., age_seconds: _Optional[int] = ...) -> None: ...

class ListSagasRequest(_message.Message):
    __slots__ = ("filter", "older_than_seconds", "page_size")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    OLDER_THAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    filter: SagaFilter
    older_than_seconds: int
    page_size: int
    def __init__(self, filter: _Optional[_Union[SagaFilter, str]] = ..., older_than_seconds: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListSagasResponse(_message.Message):
    __slots__ = ("sagas",)
    SAGAS_FIELD_NUMBER: _ClassVar[int]
    sagas: _containers.RepeatedCompositeFieldContainer[SagaSummary]
    def __init__(self, sagas: _Optional[_Iterable[_Union[SagaSummary, _Mapping]]] = ...) -> None: ...

class CompensateSagaRequest(_message.Message):
    __slots__ = ("order_id", "actor", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    actor: str
    reason: str
    def __init__(self, order_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CompensateSagaResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class OrderStatusChanged(_message.Message):
    __slots__ = ("order_id", "customer_id", "channel", "from_status", "to_status", "reason", "occurred_at", "version", "total", "payment_terms", "placed_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_FIELD_NUMBER: _ClassVar[int]
    PLACED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    channel: str
    from_status: OrderStatus
    to_status: OrderStatus
    reason: str
    occurred_at: _timestamp_pb2.Timestamp
    version: int
    total: _common_pb2.Money
    payment_terms: _common_pb2.PaymentTerms
    placed_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., channel: _Optional[str] = ..., from_status: _Optional[_Union[OrderStatus, str]] = ..., to_status: _Optional[_Union[OrderStatus, str]] = ..., reason: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., payment_terms: _Optional[_Union[_common_pb2.PaymentTerms, str]] = ..., placed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
