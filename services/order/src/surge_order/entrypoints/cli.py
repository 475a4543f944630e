"""`surge-order serve|migrate|backlog|dlq` (see surge_platform.cli)."""

from __future__ import annotations

from surge_platform.cli import run_cli

from surge_order.config import OrderSettings

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    run_cli("order", OrderSettings, "surge_order.bootstrap:build", argv)
