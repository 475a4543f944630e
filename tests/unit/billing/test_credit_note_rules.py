"""Refunds that go with credit notes: only money paid beyond what is owed goes back."""

from __future__ import annotations

import pytest
from surge_billing.domain.credit_notes import (
    Balance,
    CreditRefused,
    credit_note_number,
    refund_for_credit,
)


def balance(invoiced: int, credited: int, paid: int, refunded: int) -> Balance:
    return Balance("o1", "CNY", invoiced, credited, paid, refunded)


@pytest.mark.parametrize(
    ("paid", "refund"),
    [(1_000, 300), (0, 0), (500, 0), (800, 100)],
)
def test_the_refund_is_what_was_paid_beyond_what_is_owed_after_the_credit(
    paid: int, refund: int
) -> None:
    b = balance(1_000, 0, paid, 0)
    got = refund_for_credit(total_minor=300, invoice_total_minor=1_000, credited_minor=0, balance=b)
    assert got == refund
    after = balance(1_000, 300, paid, got)
    assert after.balance_minor == max(0, 1_000 - 300 - paid)


def test_crediting_more_than_is_left_on_the_invoice_is_refused() -> None:
    with pytest.raises(CreditRefused, match="exceeds"):
        refund_for_credit(
            total_minor=401,
            invoice_total_minor=1_000,
            credited_minor=600,
            balance=balance(1_000, 600, 1_000, 600),
        )


def test_credit_note_numbers_are_zero_padded_per_year() -> None:
    assert credit_note_number(2026, 1) == "CN-2026-000001"
    assert credit_note_number(2026, 1_234_567) == "CN-2026-1234567"
