"""Inventory business metrics, registered on the service's own registry (never at import)."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

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
        self.stock_available = Gauge(
            "surge_inventory_stock_available_units",
            "Units still reservable over all warehouses, for watched and lowest-stock SKUs",
            ["sku"],
            registry=registry,
        )
        self._stock_skus: set[str] = set()

    async def collect_stock(self, engine: AsyncEngine, watched: Sequence[str], lowest: int) -> None:
        """Set the stock gauge for the watched SKUs plus the `lowest` active SKUs with the least.

        One grouped query every collector round; SKUs that left the set drop their series so
        the label set stays bounded by len(watched) + lowest.
        """
        async with engine.connect() as conn:
            rows = (await conn.execute(_STOCK, {"watched": list(watched), "lowest": lowest})).all()
        levels = {row.sku: int(row.available) for row in rows}
        for sku in self._stock_skus - levels.keys():
            self.stock_available.remove(sku)
        for sku, available in levels.items():
            self.stock_available.labels(sku).set(available)
        self._stock_skus = set(levels)


_STOCK = text(
    """
    WITH totals AS (
        SELECT s.sku, sum(s.available) AS available
        FROM stock s JOIN skus k ON k.sku = s.sku
        WHERE k.active
        GROUP BY s.sku
    )
    SELECT sku, available FROM totals WHERE sku = ANY(:watched)
    UNION
    (SELECT sku, available FROM totals ORDER BY available, sku LIMIT :lowest)
    """
)
