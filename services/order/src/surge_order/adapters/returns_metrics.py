"""Return and refund metrics of the order service. Labels are bounded (kind, state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["ReturnMetrics"]


class ReturnMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requested = Counter(
            "surge_order_returns_requested_total",
            "Returns requested, by kind (return, refund_only)",
            ["kind"],
            registry=registry,
        )
        self.finished = Counter(
            "surge_order_returns_finished_total",
            "Returns that reached an end state (refunded, rejected, failed)",
            ["state"],
            registry=registry,
        )
        self.refunded_minor = Counter(
            "surge_order_returns_refunded_minor_total",
            "Money refunded through returns, in minor units",
            ["currency"],
            registry=registry,
        )
        self.escalations = Counter(
            "surge_order_refund_escalations_total",
            "Refund requests escalated for waiting longer than the escalation time",
            registry=registry,
        )
        self.step_resends = Counter(
            "surge_order_return_step_resends_total",
            "Return saga steps resent after their deadline, by step",
            ["step"],
            registry=registry,
        )
