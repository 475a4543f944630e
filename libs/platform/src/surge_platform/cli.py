"""The command line every service shares: `surge-<name> serve|migrate`.

def main() -> None:
    run_cli("inventory", InventorySettings, bootstrap.build, MIGRATIONS)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvloop

from surge_platform.config import ServiceSettings, load_settings
from surge_platform.migrations import migrate
from surge_platform.service import Build, Role, serve

__all__ = ["run_cli"]


def run_cli(
    name: str,
    settings_type: type[ServiceSettings],
    build: Build,
    migrations: Path,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"surge-{name}", description=f"Surge {name} service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the service")
    serve_cmd.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.ALL.value,
        help="which part to run (default: all in one process)",
    )
    commands.add_parser("migrate", help="apply database migrations and exit")
    args = parser.parse_args(argv)

    settings = load_settings(settings_type)
    if args.command == "migrate":
        migrate(migrations, settings.database_url.get_secret_value())
    else:
        uvloop.run(serve(settings, build, Role(args.role)))
