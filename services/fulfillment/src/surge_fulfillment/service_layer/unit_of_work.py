"""The fulfillment unit of work: one transaction with the shipment, carrier and order stores."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import SqlUnitOfWork

from surge_fulfillment.adapters.repository import (
    CarrierRepository,
    OrderRepository,
    ShipmentRepository,
)
from surge_fulfillment.adapters.writes import ShipmentWrites, TrackingNumbers

__all__ = ["FulfillmentUnitOfWork"]


class FulfillmentUnitOfWork(SqlUnitOfWork):
    shipments: ShipmentRepository
    carriers: CarrierRepository
    orders: OrderRepository

    def __init__(self, engine: AsyncEngine, tracking: TrackingNumbers | None = None) -> None:
        super().__init__(engine)
        self._tracking = tracking

    async def _open(self) -> None:
        def writes() -> ShipmentWrites:
            return self.deferred(ShipmentWrites)

        self.shipments = ShipmentRepository(self.connection, writes, self._tracking)
        self.carriers = CarrierRepository(self.connection)
        self.orders = OrderRepository(self.connection, writes)
