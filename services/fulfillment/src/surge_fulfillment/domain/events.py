"""Domain events recorded by the Shipment aggregate (published as protobuf by the service layer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surge_fulfillment.domain.model import ShipmentLine


@dataclass(frozen=True)
class ShipmentDispatched:
    shipment_id: str
    order_id: str
    warehouse: str
    carrier: str
    tracking_number: str
    lines: tuple[ShipmentLine, ...]
    dispatched_at: datetime


@dataclass(frozen=True)
class ShipmentDelivered:
    shipment_id: str
    order_id: str
    delivered_at: datetime


Event = ShipmentDispatched | ShipmentDelivered
