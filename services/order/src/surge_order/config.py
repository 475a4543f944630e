"""Order service settings (env prefix `SURGE_ORDER_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from surge_platform.config import ServiceSettings

__all__ = ["OrderSettings"]


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURGE_ORDER_", extra="ignore", frozen=True)

    # Every handler holds one connection for its transaction: concurrency (3 consumers x 16, the
    # rpcs, the sweeper and the relay) must fit in the pool, or overflow connections are opened
    # and closed per message (TLS negotiation, type introspection, statements prepared again).
    db_pool_size: int = Field(default=40, ge=1, le=500)
    consumer_concurrency: int = Field(default=16, ge=1, le=1024)
    inventory_addr: str = Field(
        pattern=r"^[^\s:]+:\d{1,5}$",
        description="host:port of the inventory gRPC service (catalog prices and validation)",
    )
    inventory_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="Deadline of a BatchGetSkus call"
    )
    catalog_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="How long placement reuses an active SKU's price and name (0: ask every time)",
    )
    sold_out_hold_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="After inventory refuses an order for lack of stock, how long new orders "
        "wanting more than the units it had left are refused at once (0: never)",
    )
    unpaid_timeout_seconds: int = Field(
        default=1800, ge=1, description="How long a PREPAID order's stock is held unpaid"
    )
    reservation_ttl_seconds: int = Field(
        default=900, ge=1, description="Hold for an ON_ACCOUNT order's stock until committed"
    )
    step_deadline_seconds: float = Field(
        default=15.0, gt=0, description="How long a saga step waits for its reply"
    )
    step_backoff_max_seconds: float = Field(
        default=120.0, gt=0, description="Longest wait between resends of one step"
    )
    max_step_attempts: int = Field(
        default=5, ge=1, le=100, description="Sends of one step before it counts as failed"
    )
    sweep_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    sweep_batch: int = Field(default=200, ge=1, le=5000)
    # Returns and refunds (docs/returns.md).
    return_window_days: int = Field(
        default=7, ge=0, le=365, description="Days after delivery a return may be requested"
    )
    refund_escalation_seconds: float = Field(
        default=86400.0, gt=0, description="A refund request unhandled this long is escalated"
    )
    returns_sweep_seconds: float = Field(
        default=1.0, gt=0, le=300, description="How often return steps and escalations are swept"
    )
    # Order rules and the review queue (docs/rules.md).
    rules_refresh_seconds: float = Field(
        default=2.0, gt=0, le=300, description="How often each replica checks for changed rules"
    )
    review_escalation_seconds: float = Field(
        default=3600.0, gt=0, description="An order in review longer than this is escalated"
    )
    review_sweep_seconds: float = Field(
        default=5.0, gt=0, le=300, description="How often reviews due for escalation are looked for"
    )
    review_hold_seconds: int = Field(
        default=86400, ge=0, description="Extra reservation time for an order held for review"
    )
