"""`surge-fulfillment serve|migrate`."""

from __future__ import annotations

from pathlib import Path

from surge_platform.cli import run_cli

from surge_fulfillment import bootstrap
from surge_fulfillment.config import FulfillmentSettings

__all__ = ["MIGRATIONS", "main"]

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def main() -> None:
    run_cli("fulfillment", FulfillmentSettings, bootstrap.build, MIGRATIONS)


if __name__ == "__main__":
    main()
