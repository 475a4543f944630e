"""What makes an order request invalid, and how an order is priced from the catalog."""

from __future__ import annotations

import pytest
from surge_order.domain.order import (
    Address,
    CatalogItem,
    Customer,
    LineRequest,
    PaymentTerms,
    catalog_violations,
    normalise_phone,
    price,
    request_violations,
)

CUSTOMER = Customer("c-1", "Li Lei", "+8613800000000")
ADDRESS = Address("Zhejiang", "Hangzhou", "Xihu", "1 Lingyin Rd", "310000")


def violations(**overrides: object) -> dict[str, str]:
    request: dict[str, object] = {
        "client_order_id": "co-1",
        "channel": "web",
        "customer": CUSTOMER,
        "address": ADDRESS,
        "lines": (LineRequest("TEA", 1),),
        "payment_terms": PaymentTerms.PREPAID,
    }
    request.update(overrides)
    return request_violations(**request)  # type: ignore[arg-type]


def test_a_well_formed_request_has_no_violations() -> None:
    assert violations() == {}


def test_an_order_without_lines_is_refused() -> None:
    assert violations(lines=()) == {"lines": "at least one line is required"}


@pytest.mark.parametrize("quantity", [0, -1, 10_001])
def test_quantity_out_of_range_names_the_line(quantity: int) -> None:
    lines = (LineRequest("A", 1), LineRequest("B", 2), LineRequest("C", quantity))
    assert set(violations(lines=lines)) == {"lines[2].quantity"}


def test_the_largest_quantity_allowed_is_ten_thousand() -> None:
    assert violations(lines=(LineRequest("A", 10_000),)) == {}


def test_a_sku_twice_is_refused_on_its_second_line() -> None:
    lines = (LineRequest("A", 1), LineRequest("A", 2))
    assert set(violations(lines=lines)) == {"lines[1].sku"}


@pytest.mark.parametrize("phone", ["12800000000", "1380000000", "+85213800000000", "abc", ""])
def test_malformed_mainland_phone_is_refused(phone: str) -> None:
    customer = Customer("c-1", "Li Lei", phone)
    assert set(violations(customer=customer)) == {"customer.phone"}


@pytest.mark.parametrize("phone", ["13800000000", "+8619912345678", "138-0000-0000"])
def test_mainland_phones_are_normalised_to_e164(phone: str) -> None:
    assert (normalise_phone(phone) or "").startswith("+861")
    assert violations(customer=Customer("c-1", "Li Lei", phone)) == {}


def test_missing_address_fields_and_a_bad_postal_code_are_each_named() -> None:
    address = Address("", "Hangzhou", "", "1 Lingyin Rd", "31000")
    assert violations(address=address) == {
        "shipping_address.province": "is required",
        "shipping_address.district": "is required",
        "shipping_address.postal_code": "must be 6 digits",
    }


def test_payment_terms_must_be_given() -> None:
    assert set(violations(payment_terms=None)) == {"payment_terms"}


def item(sku: str, price_minor: int, *, active: bool = True, currency: str = "CNY") -> CatalogItem:
    return CatalogItem(sku, f"name {sku}", price_minor, currency, 250, active)


def test_unknown_and_inactive_skus_are_named_by_line() -> None:
    lines = (LineRequest("A", 1), LineRequest("GONE", 1), LineRequest("OFF", 1))
    catalog = {"A": item("A", 100), "OFF": item("OFF", 100, active=False)}
    assert set(catalog_violations(lines, catalog)) == {"lines[1].sku", "lines[2].sku"}


def test_mixed_currencies_are_refused() -> None:
    lines = (LineRequest("A", 1), LineRequest("B", 1))
    catalog = {"A": item("A", 100), "B": item("B", 100, currency="USD")}
    assert set(catalog_violations(lines, catalog)) == {"lines"}


def test_prices_come_from_the_catalog() -> None:
    lines = (LineRequest("A", 3), LineRequest("B", 2))
    pricing = price(lines, {"A": item("A", 1999), "B": item("B", 500)})
    assert [line.total_minor for line in pricing.lines] == [5997, 1000]
    assert (pricing.subtotal_minor, pricing.discount_minor, pricing.total_minor) == (6997, 0, 6997)
    assert pricing.currency == "CNY"
    assert pricing.lines[0].weight_grams == 250
