"""Fulfillment settings: the platform's plus the carrier rules' cache (prefix SURGE_FULFILLMENT_).

With `SURGE_FULFILLMENT_TEST_FAILURES_ENABLED=true` CreateShipments rejects any order holding a
SKU that starts with `FAIL-SHIP-`, so tests can fail the saga's shipment step on purpose.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from surge_platform.config import ServiceSettings

__all__ = ["FulfillmentSettings"]


class FulfillmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURGE_FULFILLMENT_")

    carrier_rules_ttl_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How long a read of carrier_rules/warehouses is reused; 0 reads every time",
    )
