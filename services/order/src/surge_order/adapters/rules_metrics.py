"""Metrics of the order rules and the review queue. Labels are rule names (an admin-managed,
small set) or fixed words, never order ids."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["RulesMetrics"]


class RulesMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.orders_flagged = Counter(
            "surge_order_orders_flagged_total",
            "Orders a NOTIFY rule flagged for operators, by rule",
            ["rule"],
            registry=registry,
        )
        self.orders_held = Counter(
            "surge_order_orders_held_total",
            "Orders held for review, by the rule that held them",
            ["rule"],
            registry=registry,
        )
        self.rule_errors = Counter(
            "surge_order_rule_errors_total",
            "Rule evaluations that failed on an order (treated as not matching), by rule",
            ["rule"],
            registry=registry,
        )
        self.rule_set_version = Gauge(
            "surge_order_rule_set_version",
            "Version of the rule set this replica evaluates",
            registry=registry,
        )
        self.review_decisions = Counter(
            "surge_order_review_decisions_total",
            "Review decisions, by outcome",
            ["decision"],
            registry=registry,
        )
        self.reviews_escalated = Counter(
            "surge_order_reviews_escalated_total",
            "Reviews escalated for waiting longer than review_escalation_seconds",
            registry=registry,
        )
