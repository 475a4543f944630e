"""What makes a payment acceptable, as per-field violations (empty when it is fine)."""

from __future__ import annotations

import re

__all__ = ["payment_violations"]

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def payment_violations(
    *,
    order_id: str,
    amount_minor: int,
    currency: str,
    reference: str,
    reference_required: bool,
) -> dict[str, str]:
    """Map of field path -> what is wrong with it."""
    found: dict[str, str] = {}
    if not order_id:
        found["order_id"] = "is required"
    if amount_minor <= 0:
        found["amount.amount_minor"] = f"must be greater than 0, got {amount_minor}"
    if not _CURRENCY.match(currency):
        found["amount.currency"] = f"must be an ISO 4217 code, got {currency!r}"
    if reference_required and not reference:
        found["reference"] = "is required: it makes the payment idempotent"
    return found
