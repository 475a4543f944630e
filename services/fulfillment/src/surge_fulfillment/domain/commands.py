"""Commands from the warehouse and carrier side (the saga's commands arrive as protobuf)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DispatchShipment:
    shipment_id: str
    actor: str
    carrier: str = ""
    tracking_number: str = ""


@dataclass(frozen=True)
class ConfirmDelivery:
    shipment_id: str
    actor: str
    delivered_at: datetime | None = None
