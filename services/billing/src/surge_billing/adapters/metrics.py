"""Billing business metrics, registered on the service's own registry (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, ProcessCollector

__all__ = ["BillingMetrics"]


class BillingMetrics:
    """Counters bumped by handlers after their transaction committed. Labels are bounded:
    payment terms, rejection reason, payment source and ISO currency codes."""

    def __init__(self, registry: CollectorRegistry) -> None:
        # process_cpu_seconds_total, process_resident_memory_bytes, ...: per-service
        # saturation on the war-room dashboard (the registry is ours, not the default one).
        self.process = ProcessCollector(registry=registry)
        self.invoices_issued = Counter(
            "surge_billing_invoices_issued_total",
            "Invoices issued, by payment terms",
            ["terms"],
            registry=registry,
        )
        self.invoices_voided = Counter(
            "surge_billing_invoices_voided_total", "Invoices voided", registry=registry
        )
        self.invoices_rejected = Counter(
            "surge_billing_invoices_rejected_total",
            "IssueInvoice commands rejected, by reason",
            ["reason"],
            registry=registry,
        )
        self.invoices_paid = Counter(
            "surge_billing_invoices_paid_total",
            "Invoices that became fully paid",
            registry=registry,
        )
        self.invoiced_minor = Counter(
            "surge_billing_invoiced_minor_total",
            "Total of issued invoices, in minor units of the currency",
            ["currency"],
            registry=registry,
        )
        self.payments = Counter(
            "surge_billing_payments_total",
            "Payments recorded, by source (command from the order service, or rpc)",
            ["source"],
            registry=registry,
        )
        self.payments_minor = Counter(
            "surge_billing_payments_received_minor_total",
            "Money received, in minor units of the currency",
            ["currency"],
            registry=registry,
        )
