"""Placing an order: the rules a request must satisfy and how it is priced from the catalog.

Validation collects every problem at once as `{field path: what is wrong}` (e.g.
`lines[2].quantity`), so a client can fix a request in one round. Prices come from the catalog,
never from the client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "MAX_QUANTITY",
    "Address",
    "CatalogItem",
    "Customer",
    "LineRequest",
    "PaymentTerms",
    "PricedLine",
    "Pricing",
    "catalog_violations",
    "normalise_phone",
    "price",
    "request_violations",
]

MAX_QUANTITY = 10_000
_PHONE = re.compile(r"^(?:\+86)?(1[3-9]\d{9})$")
_POSTAL_CODE = re.compile(r"^\d{6}$")


class PaymentTerms(StrEnum):
    PREPAID = "prepaid"
    ON_ACCOUNT = "on_account"


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    phone: str


@dataclass(frozen=True)
class Address:
    province: str
    city: str
    district: str
    line1: str
    postal_code: str


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class CatalogItem:
    sku: str
    name: str
    unit_price_minor: int
    currency: str
    weight_grams: int
    active: bool


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    total_minor: int
    weight_grams: int  # of one unit, from the catalog: shipments are weighed from it


@dataclass(frozen=True)
class Pricing:
    lines: tuple[PricedLine, ...]
    currency: str
    subtotal_minor: int
    discount_minor: int
    total_minor: int


def normalise_phone(phone: str) -> str | None:
    """A mainland mobile number as E.164 (`+8613800000000`), or None if malformed."""
    match = _PHONE.match(phone.strip().replace(" ", "").replace("-", ""))
    return f"+86{match.group(1)}" if match else None


def request_violations(
    *,
    client_order_id: str,
    channel: str,
    customer: Customer,
    address: Address,
    lines: Sequence[LineRequest],
    payment_terms: PaymentTerms | None,
) -> dict[str, str]:
    """Everything wrong with a request that can be told without the catalog."""
    problems: dict[str, str] = {}
    if not client_order_id.strip():
        problems["client_order_id"] = "is required"
    if not channel.strip():
        problems["channel"] = "is required"
    if not customer.id.strip():
        problems["customer.id"] = "is required"
    if not customer.name.strip():
        problems["customer.name"] = "is required"
    if normalise_phone(customer.phone) is None:
        problems["customer.phone"] = "must be a mainland mobile number: 1[3-9] and 9 digits"
    for name in ("province", "city", "district", "line1", "postal_code"):
        if not getattr(address, name).strip():
            problems[f"shipping_address.{name}"] = "is required"
    if "shipping_address.postal_code" not in problems and not _POSTAL_CODE.match(
        address.postal_code
    ):
        problems["shipping_address.postal_code"] = "must be 6 digits"
    if payment_terms is None:
        problems["payment_terms"] = "must be PREPAID or ON_ACCOUNT"
    if not lines:
        problems["lines"] = "at least one line is required"
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if not line.sku.strip():
            problems[f"lines[{i}].sku"] = "is required"
        elif line.sku in seen:
            problems[f"lines[{i}].sku"] = f"duplicate SKU {line.sku!r}; use one line per SKU"
        seen.add(line.sku)
        if line.quantity <= 0:
            problems[f"lines[{i}].quantity"] = "must be greater than 0"
        elif line.quantity > MAX_QUANTITY:
            problems[f"lines[{i}].quantity"] = f"must be at most {MAX_QUANTITY}"
    return problems


def catalog_violations(
    lines: Sequence[LineRequest], catalog: Mapping[str, CatalogItem]
) -> dict[str, str]:
    """Unknown or inactive SKUs, and lines priced in different currencies."""
    problems: dict[str, str] = {}
    currencies: set[str] = set()
    for i, line in enumerate(lines):
        item = catalog.get(line.sku)
        if item is None:
            problems[f"lines[{i}].sku"] = f"unknown SKU {line.sku!r}"
        elif not item.active:
            problems[f"lines[{i}].sku"] = f"SKU {line.sku!r} is not for sale"
        else:
            currencies.add(item.currency)
    if len(currencies) > 1:
        problems["lines"] = "all SKUs of an order must be priced in one currency"
    return problems


def price(lines: Sequence[LineRequest], catalog: Mapping[str, CatalogItem]) -> Pricing:
    """Price valid lines from the catalog. Discounts (coupons, promotions) arrive with issue 5."""
    priced = tuple(
        PricedLine(
            sku=line.sku,
            name=catalog[line.sku].name,
            quantity=line.quantity,
            unit_price_minor=catalog[line.sku].unit_price_minor,
            discount_minor=0,
            total_minor=line.quantity * catalog[line.sku].unit_price_minor,
            weight_grams=catalog[line.sku].weight_grams,
        )
        for line in lines
    )
    subtotal = sum(line.quantity * line.unit_price_minor for line in priced)
    discount = sum(line.discount_minor for line in priced)
    return Pricing(
        lines=priced,
        currency=catalog[lines[0].sku].currency,
        subtotal_minor=subtotal,
        discount_minor=discount,
        total_minor=subtotal - discount,
    )
