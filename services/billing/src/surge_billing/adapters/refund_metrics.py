"""Credit note and refund metrics, on the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["RefundMetrics"]


class RefundMetrics:
    """Bumped after commit. Labels are bounded: source kind (return, cancellation), currency."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.credit_notes = Counter(
            "surge_billing_credit_notes_issued_total", "Credit notes issued", registry=registry
        )
        self.credit_notes_rejected = Counter(
            "surge_billing_credit_notes_rejected_total",
            "IssueCreditNote commands refused (no live invoice, over-credit)",
            registry=registry,
        )
        self.credited_minor = Counter(
            "surge_billing_credited_minor_total",
            "Total of issued credit notes, in minor units of the currency",
            ["currency"],
            registry=registry,
        )
        self.refunds = Counter(
            "surge_billing_refunds_total",
            "Refunds recorded, by what caused them (return, cancellation)",
            ["source"],
            registry=registry,
        )
        self.refunded_minor = Counter(
            "surge_billing_refunded_minor_total",
            "Money refunded, in minor units of the currency",
            ["currency"],
            registry=registry,
        )
