"""Inventory settings: the shared service settings plus reservation timing."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from surge_platform.config import ServiceSettings

__all__ = ["InventorySettings"]


class InventorySettings(ServiceSettings):
    """Environment variables prefixed `SURGE_INVENTORY_`."""

    model_config = SettingsConfigDict(env_prefix="SURGE_INVENTORY_", extra="ignore", frozen=True)

    reservation_ttl_seconds: int = Field(
        default=900,
        ge=1,
        le=7 * 24 * 3600,
        description="How long a held reservation lasts when the command does not say",
    )
    reservation_max_ttl_seconds: int = Field(
        default=7 * 24 * 3600, ge=1, description="Upper bound on a command's ttl_seconds"
    )
    reservation_sweep_interval_seconds: float = Field(
        default=0.5, gt=0, le=60, description="How often the expiry sweeper looks for due holds"
    )
    reservation_sweep_batch: int = Field(
        default=200, ge=1, le=5000, description="Reservations expired per sweeper transaction"
    )
    reserve_max_attempts: int = Field(
        default=3, ge=1, le=10, description="Allocation attempts when a concurrent order wins"
    )
    watched_skus: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="SKUs whose available stock is exported as a gauge (JSON list)",
    )
    watched_lowest_skus: int = Field(
        default=10,
        ge=0,
        le=50,
        description="Also export the stock of this many active SKUs with the least available",
    )
    stock_gauge_interval_seconds: float = Field(
        default=5.0, gt=0, le=300, description="How often the stock gauges are refreshed"
    )
