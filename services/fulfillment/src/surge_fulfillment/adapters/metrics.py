"""Fulfillment business metrics, registered on the service's own registry (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

__all__ = ["FulfillmentMetrics"]

WEIGHT_BUCKETS = (500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 50_000, 100_000)


class FulfillmentMetrics:
    """Labels are bounded: `carrier` comes from the carriers table, never from a request."""

    def __init__(self, registry: CollectorRegistry) -> None:
        # process_cpu_seconds_total, process_resident_memory_bytes, ...: per-service
        # saturation on the war-room dashboard (the registry is ours, not the default one).
        self.process = ProcessCollector(registry=registry)
        self.created = Counter(
            "surge_fulfillment_shipments_created_total",
            "Shipments created for orders, by carrier",
            ["carrier"],
            registry=registry,
        )
        self.rejected = Counter(
            "surge_fulfillment_shipment_requests_rejected_total",
            "CreateShipments commands rejected (no shipment created)",
            registry=registry,
        )
        self.dispatched = Counter(
            "surge_fulfillment_shipments_dispatched_total",
            "Shipments handed to a carrier, by carrier",
            ["carrier"],
            registry=registry,
        )
        self.delivered = Counter(
            "surge_fulfillment_shipments_delivered_total",
            "Shipments delivered to the customer, by carrier",
            ["carrier"],
            registry=registry,
        )
        self.cancelled = Counter(
            "surge_fulfillment_shipments_cancelled_total",
            "Shipments cancelled before dispatch",
            registry=registry,
        )
        self.parcel_weight = Histogram(
            "surge_fulfillment_parcel_weight_grams",
            "Weight of the parcels created",
            buckets=WEIGHT_BUCKETS,
            registry=registry,
        )
