"""`surge-inventory serve|migrate|seed`.

`serve` and `migrate` are the platform's (`run_cli`); `seed` loads the demo catalog and stock
into the database named by SURGE_INVENTORY_DATABASE_URL (idempotent; run it after `migrate`).
"""

from __future__ import annotations

import sys

import uvloop
from surge_platform.cli import run_cli
from surge_platform.config import load_settings

from surge_inventory import bootstrap
from surge_inventory.config import InventorySettings
from surge_inventory.entrypoints import seed

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["seed"]:
        if len(args) > 1:
            sys.stderr.write("usage: surge-inventory seed\n")
            raise SystemExit(2)
        settings = load_settings(InventorySettings)
        summary = uvloop.run(seed.seed(settings.database_url.get_secret_value()))
        sys.stdout.write(f"{summary}\n")
        return
    run_cli("inventory", InventorySettings, bootstrap.build, bootstrap.MIGRATIONS, args)
