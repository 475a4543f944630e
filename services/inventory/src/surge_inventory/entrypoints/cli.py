"""`surge-inventory serve|migrate|seed|backlog|dlq` (see surge_platform.cli).

`seed` loads the demo catalog and stock into the database named by SURGE_INVENTORY_DATABASE_URL
(idempotent; run it after `migrate`).
"""

from __future__ import annotations

import sys

from surge_platform.cli import Command, run_cli

from surge_inventory.config import InventorySettings

__all__ = ["main"]


def _seed(settings: InventorySettings) -> None:
    import uvloop

    from surge_inventory.entrypoints import seed

    summary = uvloop.run(seed.seed(settings.database_url.get_secret_value()))
    sys.stdout.write(f"{summary}\n")


def main(argv: list[str] | None = None) -> None:
    run_cli(
        "inventory",
        InventorySettings,
        "surge_inventory.bootstrap:build",
        argv,
        commands={"seed": Command("load the demo catalog, warehouses and stock", _seed)},
    )
