"""Business metrics of the order service. Every label set is bounded (never an order id)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["OrderMetrics"]

STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
MAX_CHANNELS = 50


class OrderMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        # process_cpu_seconds_total, process_resident_memory_bytes, ...: per-service
        # saturation on the war-room dashboard (the registry is ours, not the default one).
        self.process = ProcessCollector(registry=registry)
        self.orders_placed = Counter(
            "surge_order_orders_placed_total",
            "Orders placed, by sales channel",
            ["channel"],
            registry=registry,
        )
        self.sold_out_refusals = Counter(
            "surge_order_sold_out_refusals_total",
            "Orders refused at placement because inventory had just refused their SKU for "
            "lack of stock",
            registry=registry,
        )
        self.status_transitions = Counter(
            "surge_order_status_transitions_total",
            "Order status changes",
            ["from_status", "to_status"],
            registry=registry,
        )
        self.gmv = Counter(
            "surge_order_gmv_minor_total",
            "Gross merchandise value of placed orders, in minor units",
            ["currency"],
            registry=registry,
        )
        self.step_seconds = Histogram(
            "surge_order_saga_step_duration_seconds",
            "Time from sending a saga step's command to its outcome",
            ["step", "outcome"],
            buckets=STEP_BUCKETS,
            registry=registry,
        )
        self.compensations = Counter(
            "surge_order_saga_compensations_total",
            "Sagas that started compensating, by the step that failed and why",
            ["step", "reason"],
            registry=registry,
        )
        self.parked = Counter(
            "surge_order_sagas_parked_total",
            "Sagas parked in compensation_failed (needs an operator)",
            ["step"],
            registry=registry,
        )
        self.step_resends = Counter(
            "surge_order_saga_step_resends_total",
            "Step commands resent after their deadline",
            ["step"],
            registry=registry,
        )
        self.sagas_in_flight = Gauge(
            "surge_order_in_flight_sagas",
            "Sagas running or compensating now",
            registry=registry,
        )
        self.sagas_parked = Gauge(
            "surge_order_parked_sagas",
            "Sagas parked in compensation_failed now (each needs an operator)",
            registry=registry,
        )
        self._channels: set[str] = set()

    async def collect_sagas(self, engine: AsyncEngine) -> None:
        """Count live and parked sagas: one query on a partial index (0006_ops), per round."""
        async with engine.connect() as conn:
            row = (await conn.execute(_SAGAS)).one()
        self.sagas_in_flight.set(row.in_flight)
        self.sagas_parked.set(row.parked)

    def channel(self, channel: str) -> str:
        """`channel` as a label, or "other" once MAX_CHANNELS distinct channels were seen."""
        if channel in self._channels:
            return channel
        if len(self._channels) < MAX_CHANNELS:
            self._channels.add(channel)
            return channel
        return "other"


_SAGAS = text(
    """
    SELECT count(*) FILTER (WHERE state IN ('running', 'compensating')) AS in_flight,
           count(*) FILTER (WHERE state = 'compensation_failed') AS parked
    FROM sagas WHERE state IN ('running', 'compensating', 'compensation_failed')
    """
)
