"""Credit arithmetic for ON_ACCOUNT invoices, and what makes a payment acceptable."""

from __future__ import annotations

import pytest
from surge_billing.domain.credit import Credit
from surge_billing.domain.payments import payment_violations


def test_an_invoice_that_uses_exactly_the_rest_of_the_limit_fits() -> None:
    credit = Credit("cust-1", limit_minor=10_000, used_minor=6_000, currency="CNY")
    assert credit.available_minor == 4_000
    assert credit.allows(4_000)


def test_one_fen_over_the_limit_does_not_fit() -> None:
    credit = Credit("cust-1", limit_minor=10_000, used_minor=6_000, currency="CNY")
    assert not credit.allows(4_001)


def test_a_zero_limit_allows_only_free_invoices() -> None:
    credit = Credit("cust-1", limit_minor=0, used_minor=0, currency="CNY")
    assert credit.allows(0)
    assert not credit.allows(1)


def test_a_lowered_limit_leaves_negative_credit_available() -> None:
    credit = Credit("cust-1", limit_minor=1_000, used_minor=5_000, currency="CNY")
    assert credit.available_minor == -4_000
    assert not credit.allows(1)
    assert credit.allows(0), "a free invoice adds no debt"


def test_refusal_names_the_customer_and_the_amounts_in_currency_units() -> None:
    credit = Credit("cust-9", limit_minor=10_000_000, used_minor=9_950_000, currency="CNY")
    reason = credit.refusal(123_456)
    assert "cust-9" in reason
    assert "CNY 1,234.56" in reason
    assert "used CNY 99,500.00" in reason
    assert "limit CNY 100,000.00" in reason
    assert "available CNY 500.00" in reason


@pytest.mark.parametrize("amount", [0, -1, -10_000])
def test_a_payment_must_be_positive(amount: int) -> None:
    found = payment_violations(
        order_id="o-1", amount_minor=amount, currency="CNY", reference="r", reference_required=True
    )
    assert set(found) == {"amount.amount_minor"}


def test_a_payment_needs_an_order_a_currency_and_for_finance_a_reference() -> None:
    found = payment_violations(
        order_id="", amount_minor=100, currency="yuan", reference="", reference_required=True
    )
    assert set(found) == {"order_id", "amount.currency", "reference"}
    assert (
        payment_violations(
            order_id="o-1", amount_minor=100, currency="CNY", reference="", reference_required=False
        )
        == {}
    )
