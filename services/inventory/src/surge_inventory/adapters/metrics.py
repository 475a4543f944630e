"""Inventory business metrics, registered on the service's own registry (never at import)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector

__all__ = ["InventoryMetrics"]


class InventoryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        # process_cpu_seconds_total, process_resident_memory_bytes, ...: per-service
        # saturation on the war-room dashboard (the registry is ours, not the default one).
        self.process = ProcessCollector(registry=registry)
        self.reservations = Counter(
            "surge_inventory_reservations_total",
            "ReserveStock commands decided, by outcome (reserved, rejected, replayed)",
            ["outcome"],
            registry=registry,
        )
        self.reserve_retries = Counter(
            "surge_inventory_reserve_retries_total",
            "Allocations re-planned because a concurrent order took the stock first",
            registry=registry,
        )
        self.released = Counter(
            "surge_inventory_reservations_released_total",
            "Reservations released by compensation or cancellation",
            registry=registry,
        )
        self.expired = Counter(
            "surge_inventory_reservations_expired_total",
            "Held reservations that expired and returned their units",
            registry=registry,
        )
        self.held = Gauge(
            "surge_inventory_reservations_held",
            "Reservations currently held and able to expire",
            registry=registry,
        )
        self.units_dispatched = Counter(
            "surge_inventory_units_dispatched_total",
            "Units that left on_hand on dispatch",
            registry=registry,
        )
        self.adjustments = Counter(
            "surge_inventory_stock_adjustments_total",
            "Operator stock adjustments, by direction (receive, remove)",
            ["direction"],
            registry=registry,
        )
