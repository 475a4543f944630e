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

class ShipmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHIPMENT_STATUS_UNSPECIFIED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_CREATED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_PICKED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_PACKED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_DISPATCHED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_DELIVERED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_CANCELLED: _ClassVar[ShipmentStatus]
SHIPMENT_STATUS_UNSPECIFIED: ShipmentStatus
SHIPMENT_STATUS_CREATED: ShipmentStatus
SHIPMENT_STATUS_PICKED: ShipmentStatus
SHIPMENT_STATUS_PACKED: ShipmentStatus
SHIPMENT_STATUS_DISPATCHED: ShipmentStatus
SHIPMENT_STATUS_DELIVERED: ShipmentStatus
SHIPMENT_STATUS_CANCELLED: ShipmentStatus

class ShipmentLine(_message.Message):
    __slots__ = ("sku", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class Shipment(_message.Message):
    __slots__ = ("id", "order_id", "warehouse", "carrier", "tracking_number", "status", "lines", "weight_grams", "created_at", "updated_at", "dispatched_at", "delivered_at", "address")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DISPATCHED_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    id: str
    order_id: str
    warehouse: str
    carrier: str
    tracking_number: str
    status: ShipmentStatus
    lines: _containers.RepeatedCompositeFieldContainer[ShipmentLine]
    weight_grams: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    dispatched_at: _timestamp_pb2.Timestamp
    delivered_at: _timestamp_pb2.Timestamp
    address: _common_pb2.Address
    def __init__(self, id: _Optional[str] = ..., order_id: _Optional[str] = ..., warehouse: _Optional[str] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., status: _Optional[_Union[ShipmentStatus, str]] = ..., lines: _Optional[_Iterable[_Union[ShipmentLine, _Mapping]]] = ..., weight_grams: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dispatched_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., address: _Optional[_Union[_common_pb2.Address, _Mapping]] = ...) -> None: ...

class GetShipmentRequest(_message.Message):
    __slots__ = ("shipment_id",)
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    shipment_id: str
    def __init__(self, shipment_id: _Optional[str] = ...) -> None: ...

class GetShipmentResponse(_message.Message):
    __slots__ = ("shipment",)
    SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    shipment: Shipment
    def __init__(self, shipment: _Optional[_Union[Shipment, _Mapping]] = ...) -> None: ...

class ListShipmentsRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class ListShipmentsResponse(_message.Message):
    __slots__ = ("shipments",)
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    shipments: _containers.RepeatedCompositeFieldContainer[Shipment]
    def __init__(self, shipments: _Optional[_Iterable[_Union[Shipment, _Mapping]]] = ...) -> None: ...

class DispatchShipmentRequest(_message.Message):
    __slots__ = ("shipment_id", "carrier", "tracking_number", "actor")
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    shipment_id: str
    carrier: str
    tracking_number: str
    actor: str
    def __init__(self, shipment_id: _Optional[str] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class DispatchShipmentResponse(_message.Message):
    __slots__ = ("shipment",)
    SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    shipment: Shipment
    def __init__(self, shipment: _Optional[_Union[Shipment, _Mapping]] = ...) -> None: ...

class ConfirmDeliveryRequest(_message.Message):
    __slots__ = ("shipment_id", "delivered_at", "actor")
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    shipment_id: str
    delivered_at: _timestamp_pb2.Timestamp
    actor: str
    def __init__(self, shipment_id: _Optional[str] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class ConfirmDeliveryResponse(_message.Message):
    __slots__ = ("shipment",)
    SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    shipment: Shipment
    def __init__(self, shipment: _Optional[_Union[Shipment, _Mapping]] = ...) -> None: ...

class ShipmentItem(_message.Message):
    __slots__ = ("sku", "warehouse", "quantity", "weight_grams")
    SKU_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    sku: str
    warehouse: str
    quantity: int
    weight_grams: int
    def __init__(self, sku: _Optional[str] = ..., warehouse: _Optional[str] = ..., quantity: _Optional[int] = ..., weight_grams: _Optional[int] = ...) -> None: ...

class CreateShipmentsCommand(_message.Message):
    __slots__ = ("saga_id", "order_id", "address", "items", "carrier")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    address: _common_pb2.Address
    items: _containers.RepeatedCompositeFieldContainer[ShipmentItem]
    carrier: str
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., address: _Optional[_Union[_common_pb2.Address, _Mapping]] = ..., items: _Optional[_Iterable[_Union[ShipmentItem, _Mapping]]] = ..., carrier: _Optional[str] = ...) -> None: ...

class ShipmentsCreated(_message.Message):
    __slots__ = ("saga_id", "order_id", "shipments")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    shipments: _containers.RepeatedCompositeFieldContainer[Shipment]
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., shipments: _Optional[_Iterable[_Union[Shipment, _Mapping]]] = ...) -> None: ...

class ShipmentsRejected(_message.Message):
    __slots__ = ("saga_id", "order_id", "reason")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    reason: str
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelShipmentsCommand(_message.Message):
    __slots__ = ("saga_id", "order_id", "reason")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    reason: str
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ShipmentsCancelled(_message.Message):
    __slots__ = ("saga_id", "order_id")
    SAGA_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    saga_id: str
    order_id: str
    def __init__(self, saga_id: _Optional[str] = ..., order_id: _Optional[str] = ...) -> None: ...

class ShipmentDispatched(_message.Message):
    __slots__ = ("order_id", "shipment_id", "warehouse", "carrier", "tracking_number", "lines", "dispatched_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    DISPATCHED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    shipment_id: str
    warehouse: str
    carrier: str
    tracking_number: str
    lines: _containers.RepeatedCompositeFieldContainer[ShipmentLine]
    dispatched_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., shipment_id: _Optional[str] = ..., warehouse: _Optional[str] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ShipmentLine, _Mapping]]] = ..., dispatched_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShipmentDelivered(_message.Message):
    __slots__ = ("order_id", "shipment_id", "delivered_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    shipment_id: str
    delivered_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., shipment_id: _Optional[str] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
