"""The inventory repositories (SQLAlchemy Core; no ORM on these hot paths)."""

from __future__ import annotations

from surge_inventory.adapters.catalog_repository import CatalogRepository
from surge_inventory.adapters.reservation_repository import ReservationRepository
from surge_inventory.adapters.stock_repository import (
    Delta,
    ReserveAttempt,
    StockRepository,
    StockRow,
)

__all__ = [
    "CatalogRepository",
    "Delta",
    "ReservationRepository",
    "ReserveAttempt",
    "StockRepository",
    "StockRow",
]
