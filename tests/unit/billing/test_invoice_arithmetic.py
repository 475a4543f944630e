"""Tax split out of tax-inclusive prices, totals that add up exactly, and invoice numbers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from surge_billing.domain.invoices import (
    InvalidInvoice,
    LineDraft,
    invoice_number,
    price_invoice,
    tax_included,
)


def reference_tax(amount: int, rate: int) -> int:
    exact = Decimal(amount) * rate / (100 + rate)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("amount", "rate", "tax"),
    [
        (11300, 13, 1300),  # ¥113.00 at 13 % holds exactly ¥13.00
        (100, 13, 12),  # 11.504... rounds up
        (1, 13, 0),
        (0, 13, 0),
        (1, 100, 1),  # exactly half a fen rounds up, never to even
        (3, 100, 2),  # 1.5 -> 2
        (5, 100, 3),  # 2.5 -> 3 (banker's rounding would give 2)
        (999_999_999_999, 13, 115_044_247_787),
        (12345, 0, 0),
    ],
)
def test_tax_inside_an_amount_is_rounded_half_up(amount: int, rate: int, tax: int) -> None:
    assert tax_included(amount, rate) == tax


@pytest.mark.parametrize("rate", [0, 3, 6, 9, 13, 17, 100])
def test_tax_matches_decimal_half_up_for_every_small_amount(rate: int) -> None:
    mismatches = [a for a in range(0, 5000) if tax_included(a, rate) != reference_tax(a, rate)]
    assert mismatches == []


def test_tax_of_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        tax_included(-1, 13)


def test_awkward_lines_add_up_exactly_to_subtotal_plus_tax() -> None:
    lines = [
        LineDraft("SKU-A", "pen", 3, 333, discount_minor=1),  # 998
        LineDraft("SKU-B", "ink", 7, 1, discount_minor=0),  # 7
        LineDraft("SKU-C", "pad", 1, 100),  # 100 -> tax 12 (11.50 rounds up)
        LineDraft("SKU-D", "box", 13, 8_689, discount_minor=4_321, amount_minor=108_636),
    ]
    priced = price_invoice(lines, 13, declared_total_minor=998 + 7 + 100 + 108_636)

    assert [line.amount_minor for line in priced.lines] == [998, 7, 100, 108_636]
    assert [line.tax_minor for line in priced.lines] == [
        reference_tax(line.amount_minor, 13) for line in priced.lines
    ]
    assert priced.total_minor == 109_741
    assert priced.tax_minor == sum(line.tax_minor for line in priced.lines)
    assert priced.subtotal_minor + priced.tax_minor == priced.total_minor
    assert priced.discount_minor == 4_322
    assert all(line.net_minor + line.tax_minor == line.amount_minor for line in priced.lines)


def test_invoice_tax_is_the_sum_of_line_taxes_not_the_tax_of_the_total() -> None:
    # 100 fen lines hold 11.504 fen of tax each: per line 12, on the total of 300 it would be 35.
    priced = price_invoice([LineDraft(f"SKU-{n}", "", 1, 100) for n in range(3)], 13)
    assert priced.tax_minor == 36
    assert priced.subtotal_minor == 264
    assert priced.total_minor == 300


@pytest.mark.parametrize(
    ("lines", "total", "why"),
    [
        ([], None, "at least one line"),
        ([LineDraft("SKU-A", "", 0, 100)], None, "quantity"),
        ([LineDraft("SKU-A", "", -2, 100)], None, "quantity"),
        ([LineDraft("SKU-A", "", 1, -100)], None, "unit price"),
        ([LineDraft("", "", 1, 100)], None, "SKU is required"),
        ([LineDraft("SKU-A", "", 2, 100, discount_minor=201)], None, "discount"),
        ([LineDraft("SKU-A", "", 2, 100, discount_minor=-1)], None, "discount"),
        ([LineDraft("SKU-A", "", 2, 100, amount_minor=199)], None, "amount 199"),
        ([LineDraft("SKU-A", "", 2, 100)], 201, "add up to 200"),
    ],
)
def test_malformed_invoices_are_refused_with_a_reason(
    lines: list[LineDraft], total: int | None, why: str
) -> None:
    with pytest.raises(InvalidInvoice, match=why):
        price_invoice(lines, 13, declared_total_minor=total)


def test_a_fully_discounted_line_is_free_and_untaxed() -> None:
    priced = price_invoice([LineDraft("SKU-GIFT", "gift", 2, 500, discount_minor=1000)], 13)
    assert (priced.total_minor, priced.tax_minor, priced.subtotal_minor) == (0, 0, 0)


@pytest.mark.parametrize(
    ("year", "seq", "number"),
    [
        (2026, 1, "INV-2026-000001"),
        (2026, 42, "INV-2026-000042"),
        (2027, 999_999, "INV-2027-999999"),
        (2027, 1_000_000, "INV-2027-1000000"),
    ],
)
def test_invoice_numbers_are_year_and_zero_padded_sequence(
    year: int, seq: int, number: str
) -> None:
    assert invoice_number(year, seq) == number


@pytest.mark.parametrize("seq", [0, -1])
def test_invoice_sequence_starts_at_one(seq: int) -> None:
    with pytest.raises(ValueError, match="start at 1"):
        invoice_number(2026, seq)
