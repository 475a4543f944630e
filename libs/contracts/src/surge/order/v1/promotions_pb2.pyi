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

class PromotionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROMOTION_KIND_UNSPECIFIED: _ClassVar[PromotionKind]
    PROMOTION_KIND_PERCENT_COUPON: _ClassVar[PromotionKind]
    PROMOTION_KIND_FIXED_COUPON: _ClassVar[PromotionKind]
    PROMOTION_KIND_THRESHOLD: _ClassVar[PromotionKind]
    PROMOTION_KIND_GIFT: _ClassVar[PromotionKind]
PROMOTION_KIND_UNSPECIFIED: PromotionKind
PROMOTION_KIND_PERCENT_COUPON: PromotionKind
PROMOTION_KIND_FIXED_COUPON: PromotionKind
PROMOTION_KIND_THRESHOLD: PromotionKind
PROMOTION_KIND_GIFT: PromotionKind

class Promotion(_message.Message):
    __slots__ = ("id", "name", "kind", "active", "starts_at", "ends_at", "code", "percent", "amount_minor", "min_spend_minor", "threshold_minor", "repeat", "usage_limit", "per_customer_limit", "used", "buy_sku", "buy_quantity", "gift_sku", "gift_quantity", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    MIN_SPEND_MINOR_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_MINOR_FIELD_NUMBER: _ClassVar[int]
    REPEAT_FIELD_NUMBER: _ClassVar[int]
    USAGE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PER_CUSTOMER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    BUY_SKU_FIELD_NUMBER: _ClassVar[int]
    BUY_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    GIFT_SKU_FIELD_NUMBER: _ClassVar[int]
    GIFT_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: PromotionKind
    active: bool
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    code: str
    percent: int
    amount_minor: int
    min_spend_minor: int
    threshold_minor: int
    repeat: bool
    usage_limit: int
    per_customer_limit: int
    used: int
    buy_sku: str
    buy_quantity: int
    gift_sku: str
    gift_quantity: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[PromotionKind, str]] = ..., active: bool = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., code: _Optional[str] = ..., percent: _Optional[int] = ..., amount_minor: _Optional[int] = ..., min_spend_minor: _Optional[int] = ..., threshold_minor: _Optional[int] = ..., repeat: bool = ..., usage_limit: _Optional[int] = ..., per_customer_limit: _Optional[int] = ..., used: _Optional[int] = ..., buy_sku: _Optional[str] = ..., buy_quantity: _Optional[int] = ..., gift_sku: _Optional[str] = ..., gift_quantity: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PriceAdjustment(_message.Message):
    __slots__ = ("kind", "promotion_id", "code", "amount")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROMOTION_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    promotion_id: str
    code: str
    amount: _common_pb2.Money
    def __init__(self, kind: _Optional[str] = ..., promotion_id: _Optional[str] = ..., code: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class OrderLinePricing(_message.Message):
    __slots__ = ("sku", "quantity", "gift_quantity", "list_unit_price", "list_amount", "adjustments", "final_amount")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    GIFT_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LIST_UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    LIST_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    FINAL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    gift_quantity: int
    list_unit_price: _common_pb2.Money
    list_amount: _common_pb2.Money
    adjustments: _containers.RepeatedCompositeFieldContainer[PriceAdjustment]
    final_amount: _common_pb2.Money
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., gift_quantity: _Optional[int] = ..., list_unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., list_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., adjustments: _Optional[_Iterable[_Union[PriceAdjustment, _Mapping]]] = ..., final_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class MemberPrice(_message.Message):
    __slots__ = ("tier", "sku", "unit_price_minor")
    TIER_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_MINOR_FIELD_NUMBER: _ClassVar[int]
    tier: str
    sku: str
    unit_price_minor: int
    def __init__(self, tier: _Optional[str] = ..., sku: _Optional[str] = ..., unit_price_minor: _Optional[int] = ...) -> None: ...

class PurchaseLimit(_message.Message):
    __slots__ = ("sku", "max_quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    MAX_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    max_quantity: int
    def __init__(self, sku: _Optional[str] = ..., max_quantity: _Optional[int] = ...) -> None: ...

class CreatePromotionRequest(_message.Message):
    __slots__ = ("promotion", "actor")
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    actor: str
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class CreatePromotionResponse(_message.Message):
    __slots__ = ("promotion",)
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ...) -> None: ...

class UpdatePromotionRequest(_message.Message):
    __slots__ = ("promotion", "actor")
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    actor: str
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class UpdatePromotionResponse(_message.Message):
    __slots__ = ("promotion",)
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ...) -> None: ...

class GetPromotionRequest(_message.Message):
    __slots__ = ("promotion_id",)
    PROMOTION_ID_FIELD_NUMBER: _ClassVar[int]
    promotion_id: str
    def __init__(self, promotion_id: _Optional[str] = ...) -> None: ...

class GetPromotionResponse(_message.Message):
    __slots__ = ("promotion",)
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ...) -> None: ...

class ListPromotionsRequest(_message.Message):
    __slots__ = ("kind", "active_only")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    kind: PromotionKind
    active_only: bool
    def __init__(self, kind: _Optional[_Union[PromotionKind, str]] = ..., active_only: bool = ...) -> None: ...

class ListPromotionsResponse(_message.Message):
    __slots__ = ("promotions",)
    PROMOTIONS_FIELD_NUMBER: _ClassVar[int]
    promotions: _containers.RepeatedCompositeFieldContainer[Promotion]
    def __init__(self, promotions: _Optional[_Iterable[_Union[Promotion, _Mapping]]] = ...) -> None: ...

class DeactivatePromotionRequest(_message.Message):
    __slots__ = ("promotion_id", "actor")
    PROMOTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    promotion_id: str
    actor: str
    def __init__(self, promotion_id: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class DeactivatePromotionResponse(_message.Message):
    __slots__ = ("promotion",)
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ...) -> None: ...

class SetCustomerTierRequest(_message.Message):
    __slots__ = ("customer_id", "tier")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    tier: str
    def __init__(self, customer_id: _Optional[str] = ..., tier: _Optional[str] = ...) -> None: ...

class SetCustomerTierResponse(_message.Message):
    __slots__ = ("customer_id", "tier")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    tier: str
    def __init__(self, customer_id: _Optional[str] = ..., tier: _Optional[str] = ...) -> None: ...

class SetMemberPriceRequest(_message.Message):
    __slots__ = ("member_price",)
    MEMBER_PRICE_FIELD_NUMBER: _ClassVar[int]
    member_price: MemberPrice
    def __init__(self, member_price: _Optional[_Union[MemberPrice, _Mapping]] = ...) -> None: ...

class SetMemberPriceResponse(_message.Message):
    __slots__ = ("member_price",)
    MEMBER_PRICE_FIELD_NUMBER: _ClassVar[int]
    member_price: MemberPrice
    def __init__(self, member_price: _Optional[_Union[MemberPrice, _Mapping]] = ...) -> None: ...

class ListMemberPricesRequest(_message.Message):
    __slots__ = ("tier",)
    TIER_FIELD_NUMBER: _ClassVar[int]
    tier: str
    def __init__(self, tier: _Optional[str] = ...) -> None: ...

class ListMemberPricesResponse(_message.Message):
    __slots__ = ("member_prices",)
    MEMBER_PRICES_FIELD_NUMBER: _ClassVar[int]
    member_prices: _containers.RepeatedCompositeFieldContainer[MemberPrice]
    def __init__(self, member_prices: _Optional[_Iterable[_Union[MemberPrice, _Mapping]]] = ...) -> None: ...

class SetPurchaseLimitRequest(_message.Message):
    __slots__ = ("purchase_limit",)
    PURCHASE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    purchase_limit: PurchaseLimit
    def __init__(self, purchase_limit: _Optional[_Union[PurchaseLimit, _Mapping]] = ...) -> None: ...

class SetPurchaseLimitResponse(_message.Message):
    __slots__ = ("purchase_limit",)
    PURCHASE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    purchase_limit: PurchaseLimit
    def __init__(self, purchase_limit: _Optional[_Union[PurchaseLimit, _Mapping]] = ...) -> None: ...

class ListPurchaseLimitsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPurchaseLimitsResponse(_message.Message):
    __slots__ = ("purchase_limits",)
    PURCHASE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    purchase_limits: _containers.RepeatedCompositeFieldContainer[PurchaseLimit]
    def __init__(self, purchase_limits: _Optional[_Iterable[_Union[PurchaseLimit, _Mapping]]] = ...) -> None: ...
