"""`surge-order serve|migrate`."""

from __future__ import annotations

from pathlib import Path

from surge_platform.cli import run_cli

from surge_order import bootstrap
from surge_order.config import OrderSettings

__all__ = ["MIGRATIONS", "main"]

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def main(argv: list[str] | None = None) -> None:
    run_cli("order", OrderSettings, bootstrap.build, MIGRATIONS, argv)
