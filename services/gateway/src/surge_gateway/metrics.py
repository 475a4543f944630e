"""The gateway's Prometheus metrics, in a registry made by `create_app` (none at import time)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from surge_platform.telemetry import LATENCY_BUCKETS

__all__ = ["GatewayMetrics"]


@dataclass
class GatewayMetrics:
    registry: CollectorRegistry

    def __post_init__(self) -> None:
        r = self.registry
        # process_cpu_seconds_total, process_resident_memory_bytes, ...: per-service
        # saturation on the war-room dashboard (the registry is ours, not the default one).
        self.process = ProcessCollector(registry=r)
        self.requests = Counter(
            "surge_gateway_http_requests_total",
            "HTTP requests handled, by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "surge_gateway_http_request_duration_seconds",
            "HTTP request duration, by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "surge_gateway_http_requests_in_flight", "HTTP requests being handled", registry=r
        )
        self.rate_limited = Counter(
            "surge_gateway_rate_limited_total",
            "Requests refused with 429, by rate class",
            ["rate_class"],
            registry=r,
        )
        self.rate_limit = Gauge(
            "surge_gateway_rate_limit_per_second",
            "Configured (tightest) per-principal limit, by rate class",
            ["rate_class"],
            registry=r,
        )
        self.shed = Counter(
            "surge_gateway_shed_total",
            "New orders refused with 503 by admission control, by reason",
            ["reason"],
            registry=r,
        )
        self.place_order_in_flight = Gauge(
            "surge_gateway_place_order_in_flight", "PlaceOrder calls in flight", registry=r
        )
        self.admission_max_in_flight = Gauge(
            "surge_gateway_admission_max_in_flight",
            "Configured bound on PlaceOrder calls in flight",
            registry=r,
        )
        self.admission_max_latency = Gauge(
            "surge_gateway_admission_max_latency_seconds",
            "Configured accept latency that admission control keeps new orders under",
            registry=r,
        )
        self.admission_limit = Gauge(
            "surge_gateway_admission_limit",
            "Current adaptive limit on new orders being placed at once",
            registry=r,
        )
        self.idempotent_replays = Counter(
            "surge_gateway_idempotent_replays_total",
            "Responses replayed for a repeated Idempotency-Key",
            registry=r,
        )
        self.idempotency_conflicts = Counter(
            "surge_gateway_idempotency_conflicts_total",
            "Idempotency-Key reuse refused, by reason (mismatch, in_flight)",
            ["reason"],
            registry=r,
        )
        self.orders_accepted = Counter(
            "surge_gateway_orders_accepted_total",
            "Orders accepted, by channel and whether they were flagged possible duplicates",
            ["channel", "possible_duplicate"],
            registry=r,
        )
