"""`surge-billing serve|migrate`."""

from __future__ import annotations

from pathlib import Path

from surge_platform.cli import run_cli

from surge_billing import bootstrap
from surge_billing.config import BillingSettings

__all__ = ["MIGRATIONS", "main"]

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def main(argv: list[str] | None = None) -> None:
    run_cli("billing", BillingSettings, bootstrap.build, MIGRATIONS, argv)
