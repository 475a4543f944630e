"""Typed, validated settings, built once in `main()` and passed down.

Each service subclasses `ServiceSettings` with its own env prefix (`SURGE_ORDER_`, ...).
`load_settings` turns a validation failure into one readable line per bad variable and exits,
so a misconfigured pod fails at start-up, naming what to fix.

    class InventorySettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="SURGE_INVENTORY_")
        reservation_ttl_seconds: int = 900

    settings = load_settings(InventorySettings)
"""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings", "load_settings"]


class ServiceSettings(BaseSettings):
    """Settings every Surge service has. Required values have no default on purpose."""

    model_config = SettingsConfigDict(env_prefix="SURGE_", extra="ignore", frozen=True)

    database_url: SecretStr = Field(description="postgresql+asyncpg:// URL of this service's DB")
    nats_url: str = Field(description="NATS server URL(s), comma separated")
    nats_prefix: str = Field(
        default="surge",
        pattern=r"^[a-z][a-z0-9_]*$",
        description="First token of every subject and stream name; isolates environments",
    )
    grpc_host: str = "0.0.0.0"  # containers listen on all interfaces; `make up` sets 127.0.0.1
    grpc_port: int = Field(default=50051, ge=1, le=65535)
    metrics_port: int = Field(default=9090, ge=0, le=65535)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_json: bool = True
    db_pool_size: int = Field(default=32, ge=1, le=500)
    consumer_batch: int = Field(default=128, ge=1, le=1024)
    consumer_concurrency: int = Field(default=16, ge=1, le=1024)
    consumer_group_commit: bool = Field(
        default=True, description="Apply each fetched batch of messages in one transaction"
    )
    outbox_direct_publish: bool = Field(
        default=True,
        description="Publish each transaction's outbox rows right after COMMIT; the relay then "
        "only publishes rows left behind for longer than outbox_relay_grace_seconds",
    )
    outbox_relay_grace_seconds: float = Field(default=2.0, ge=0, le=300)
    max_deliver: int = Field(default=5, ge=1, le=100)
    shutdown_grace_seconds: float = Field(default=8.0, gt=0, le=60)
    test_failures_enabled: bool = Field(
        default=False,
        description="Let tests make saga steps fail on purpose (never in production)",
    )

    @property
    def service_name(self) -> str:
        prefix = str(self.model_config.get("env_prefix", "SURGE_"))
        return prefix.removeprefix("SURGE_").rstrip("_").lower() or "surge"


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """Build settings from the environment or exit(2) naming every missing or invalid variable."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            variable = f"{prefix}{field}".upper()
            problem = "is required" if error["type"] == "missing" else error["msg"]
            sys.stderr.write(f"configuration error: {variable} {problem}\n")
        raise SystemExit(2) from None
