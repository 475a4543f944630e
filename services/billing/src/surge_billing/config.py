"""Billing settings (env prefix `SURGE_BILLING_`), built once in `main()` and passed down."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from surge_platform.config import ServiceSettings

__all__ = ["BillingSettings"]


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURGE_BILLING_", extra="ignore", frozen=True)

    vat_rate_percent: int = Field(
        default=13, ge=0, le=100, description="VAT rate included in every price (China: 13)"
    )
    default_credit_limit_minor: int = Field(
        default=10_000_000,
        ge=0,
        description="Credit limit of a customer never given one, in minor units (¥100,000)",
    )
    credit_currency: str = Field(
        default="CNY", pattern=r"^[A-Z]{3}$", description="Currency of every credit limit"
    )
    credit_period_days: int = Field(
        default=30, ge=0, le=365, description="Days an ON_ACCOUNT invoice is due after issue"
    )
    invoice_utc_offset_hours: int = Field(
        default=8,
        ge=-12,
        le=14,
        description="Offset of the books' time zone; decides the year an invoice is numbered in",
    )
