"""Gateway settings (env prefix `SURGE_GATEWAY_`), built once in `main()` and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_RATE_LIMITS", "GatewaySettings"]

# Per-principal limits in `limits` notation; the key is a role or "channel"/"carrier"/"anonymous".
DEFAULT_RATE_LIMITS: dict[str, str] = {
    "anonymous": "20/second",
    "customer": "20/second;600/minute",
    "operator": "200/second",
    "finance": "200/second",
    "admin": "500/second",
    "channel": "1000/second",
    "carrier": "200/second",
}


class GatewaySettings(BaseSettings):
    """Every setting of the gateway; required ones have no default on purpose."""

    model_config = SettingsConfigDict(env_prefix="SURGE_GATEWAY_", extra="ignore", frozen=True)

    database_url: SecretStr = Field(description="postgresql+asyncpg:// URL of the gateway's DB")
    order_addr: str = Field(description="host:port of the order service (gRPC)")
    inventory_addr: str = Field(description="host:port of the inventory service (gRPC)")
    fulfillment_addr: str = Field(description="host:port of the fulfillment service (gRPC)")
    billing_addr: str = Field(description="host:port of the billing service (gRPC)")
    jwt_public_key: SecretStr | None = Field(
        default=None, description="PEM public key that verifies bearer tokens"
    )
    jwt_public_key_file: Path | None = Field(
        default=None, description="Path of the PEM public key (instead of JWT_PUBLIC_KEY)"
    )
    jwt_algorithm: Literal["EdDSA", "RS256"] = "EdDSA"
    jwt_issuer: str = "surge"
    jwt_audience: str = "surge-api"

    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_json: bool = True
    db_pool_size: int = Field(default=10, ge=1, le=200)

    grpc_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    place_order_timeout_seconds: float = Field(default=3.0, gt=0, le=60)

    rate_limits: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    admission_max_in_flight: int = Field(
        default=256,
        ge=1,
        description="Hard bound on new orders being placed at once; past it new orders get 503",
    )
    admission_max_latency_seconds: float = Field(
        default=0.25,
        gt=0,
        description="Accept latency new orders are kept under: an order slower than this cuts "
        "the adaptive in-flight limit, past which new orders get 503",
    )
    admission_retry_after_seconds: int = Field(default=1, ge=1, le=60)

    idempotency_ttl_hours: int = Field(default=24, ge=24, le=24 * 30)
    idempotency_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a repeat waits for the first request with its key to finish "
        "before it gets 409",
    )
    duplicate_window_seconds: int = Field(default=300, ge=0, le=3600)
    sse_poll_seconds: float = Field(default=0.25, gt=0, le=10)
    sse_max_seconds: float = Field(default=300.0, gt=0, le=3600)
    nats_url: str = Field(
        default="",
        description="NATS URL(s) to push order status changes to SSE streams; empty: poll only",
    )
    nats_prefix: str = Field(
        default="surge",
        pattern=r"^[a-z][a-z0-9_]*$",
        description="The services' NATS subject prefix (SURGE_<NAME>_NATS_PREFIX)",
    )
    sse_fallback_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How often an SSE stream still reads the order while changes are pushed",
    )

    @model_validator(mode="after")
    def _one_public_key(self) -> GatewaySettings:
        if (self.jwt_public_key is None) == (self.jwt_public_key_file is None):
            raise ValueError(
                "set exactly one of SURGE_GATEWAY_JWT_PUBLIC_KEY and "
                "SURGE_GATEWAY_JWT_PUBLIC_KEY_FILE"
            )
        if self.jwt_public_key_file is not None and not self.jwt_public_key_file.is_file():
            raise ValueError(
                f"SURGE_GATEWAY_JWT_PUBLIC_KEY_FILE: no file {self.jwt_public_key_file}"
            )
        return self

    def public_key_pem(self) -> str:
        """The PEM text of the token verification key, from the setting or its file."""
        if self.jwt_public_key is not None:
            return self.jwt_public_key.get_secret_value()
        assert self.jwt_public_key_file is not None
        return self.jwt_public_key_file.read_text()

    @field_validator("rate_limits", mode="after")
    @classmethod
    def _check_limits(cls, value: dict[str, str]) -> dict[str, str]:
        from limits import parse_many

        merged = {**DEFAULT_RATE_LIMITS, **value}
        for principal, spec in merged.items():
            try:
                parse_many(spec)
            except ValueError as exc:
                raise ValueError(f"invalid limit for {principal!r}: {spec!r}") from exc
        return merged
