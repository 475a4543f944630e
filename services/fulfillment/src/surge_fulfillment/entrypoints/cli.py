"""`surge-fulfillment serve|migrate|backlog|dlq` (see surge_platform.cli)."""

from __future__ import annotations

from surge_platform.cli import run_cli

from surge_fulfillment.config import FulfillmentSettings

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    run_cli("fulfillment", FulfillmentSettings, "surge_fulfillment.bootstrap:build", argv)
