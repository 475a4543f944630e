"""`surge-billing serve|migrate|backlog|dlq` (see surge_platform.cli)."""

from __future__ import annotations

from surge_platform.cli import run_cli

from surge_billing.config import BillingSettings

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    run_cli("billing", BillingSettings, "surge_billing.bootstrap:build", argv)
