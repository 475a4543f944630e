"""The fulfillment unit of work: one transaction with the shipment, carrier and order stores."""

from __future__ import annotations

from surge_platform.db import SqlUnitOfWork

from surge_fulfillment.adapters.repository import (
    CarrierRepository,
    OrderRepository,
    ShipmentRepository,
)

__all__ = ["FulfillmentUnitOfWork"]


class FulfillmentUnitOfWork(SqlUnitOfWork):
    shipments: ShipmentRepository
    carriers: CarrierRepository
    orders: OrderRepository

    async def _open(self) -> None:
        self.shipments = ShipmentRepository(self.connection)
        self.carriers = CarrierRepository(self.connection)
        self.orders = OrderRepository(self.connection)
