"""Fulfillment's own business failures (each maps to a gRPC status through its base class)."""

from __future__ import annotations

from surge_platform.errors import InvalidArgument, NotFound


class ShipmentNotFound(NotFound):
    def __init__(self, shipment_id: str) -> None:
        super().__init__(f"shipment {shipment_id!r} does not exist")


class UnknownCarrier(InvalidArgument):
    def __init__(self, carrier: str) -> None:
        super().__init__(f"unknown carrier {carrier!r}", {"carrier": "is not a known carrier code"})
