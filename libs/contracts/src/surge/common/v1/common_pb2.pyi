from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PaymentTerms(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_TERMS_UNSPECIFIED: _ClassVar[PaymentTerms]
    PAYMENT_TERMS_PREPAID: _ClassVar[PaymentTerms]
    PAYMENT_TERMS_ON_ACCOUNT: _ClassVar[PaymentTerms]
PAYMENT_TERMS_UNSPECIFIED: PaymentTerms
PAYMENT_TERMS_PREPAID: PaymentTerms
PAYMENT_TERMS_ON_ACCOUNT: PaymentTerms

class Money(_message.Message):
    __slots__ = ("amount_minor", "currency")
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    amount_minor: int
    currency: str
    def __init__(self, amount_minor: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("province", "city", "district", "line1", "postal_code")
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    LINE1_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    province: str
    city: str
    district: str
    line1: str
    postal_code: str
    def __init__(self, province: _Optional[str] = ..., city: _Optional[str] = ..., district: _Optional[str] = ..., line1: _Optional[str] = ..., postal_code: _Optional[str] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "name", "phone")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    phone: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...
