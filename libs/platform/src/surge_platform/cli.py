"""The command line every service shares: `surge-<name> serve|migrate|backlog|dlq`.

Settings are validated before anything heavy is imported, so a misconfigured start fails in a
fraction of a second naming the variable; the service's composition root is named, not imported:

    def main() -> None:
        run_cli("inventory", InventorySettings, "surge_inventory.bootstrap:build",
                commands={"seed": Command("load the demo catalog", seed.run)})
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from surge_platform.config import ServiceSettings, load_settings

__all__ = ["Command", "run_cli"]

ROLES = ("all", "api", "consumer", "relay")


@dataclass(frozen=True)
class Command:
    """A service-specific subcommand: `handler(settings)` runs after settings are validated."""

    help: str
    handler: Callable[[Any], None]


def run_cli(
    name: str,
    settings_type: type[ServiceSettings],
    build: str,
    argv: list[str] | None = None,
    commands: Mapping[str, Command] | None = None,
) -> None:
    """Parse the command line, validate settings, then run the chosen command.

    `build` names the composition root as "module:function"; it is imported only to serve.
    Migrations are the Alembic folder inside the service package (`surge_<name>/migrations`).
    """
    parser = argparse.ArgumentParser(prog=f"surge-{name}", description=f"Surge {name} service")
    extra = dict(commands or {})
    subcommands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = subcommands.add_parser("serve", help="run the service")
    serve_cmd.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="which part to run (default: all in one process)",
    )
    subcommands.add_parser("migrate", help="apply database migrations and exit")
    subcommands.add_parser("backlog", help="outbox rows not yet published and consumer lag")
    for command_name, command in extra.items():
        subcommands.add_parser(command_name, help=command.help)
    dlq = subcommands.add_parser("dlq", help="list, show, redrive or purge dead letters")
    dlq.add_argument("action", choices=["list", "show", "redrive", "purge"])
    dlq.add_argument("sequence", nargs="*", type=int, help="dead letter numbers (from list)")
    dlq.add_argument("--all", action="store_true", help="redrive or purge every dead letter")
    args = parser.parse_args(argv)

    settings = load_settings(settings_type)
    if args.command in extra:
        extra[args.command].handler(settings)
        return
    import uvloop

    if args.command == "migrate":
        from surge_platform.migrations import migrate, migrations_of

        migrate(migrations_of(f"surge_{name}"), settings.database_url.get_secret_value())
    elif args.command == "backlog":
        uvloop.run(_backlog(name, settings))
    elif args.command == "dlq":
        uvloop.run(_dead_letters(name, settings, args))
    else:
        from surge_platform.service import Role, serve

        module, function = build.split(":")
        uvloop.run(
            serve(settings, getattr(importlib.import_module(module), function), Role(args.role))
        )


async def _backlog(name: str, settings: ServiceSettings) -> None:
    from surge_platform.db import create_engine
    from surge_platform.messaging import Topology, connect
    from surge_platform.operations import backlog

    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    nc = await connect(settings.nats_url, f"surge-{name}-cli")
    try:
        found = await backlog(engine, nc.jetstream(), Topology(settings.nats_prefix), name)
    finally:
        await nc.close()
        await engine.dispose()
    print(f"outbox: {found.outbox_rows} rows, oldest {found.outbox_oldest_seconds:.1f}s")
    for durable, (pending, ack_pending) in sorted(found.consumers.items()):
        print(f"consumer {durable}: {pending} pending, {ack_pending} awaiting ack")


async def _dead_letters(name: str, settings: ServiceSettings, args: argparse.Namespace) -> None:
    from surge_platform.messaging import Topology, connect
    from surge_platform.operations import DeadLetters

    nc = await connect(settings.nats_url, f"surge-{name}-cli")
    letters = DeadLetters(nc.jetstream(), Topology(settings.nats_prefix), name)
    try:
        if args.action == "list" or (args.all and args.action in ("redrive", "purge")):
            found = await letters.list()
            if args.action == "list":
                for letter in found:
                    print(
                        f"#{letter.sequence}  {letter.at}  {letter.consumer}  {letter.subject}"
                        f"  deliveries={letter.deliveries}  {letter.reason}"
                    )
                print(f"{len(found)} dead letters")
                return
            sequences = [letter.sequence for letter in found]
        else:
            sequences = args.sequence
        for sequence in sequences:
            if args.action == "show":
                letter = await letters.require(sequence)
                print(letter)
            elif args.action == "redrive":
                letter = await letters.redrive(sequence)
                print(f"redriven #{sequence} -> {letter.subject}")
            else:
                await letters.purge(sequence)
                print(f"purged #{sequence}")
    except LookupError as exc:
        raise SystemExit(f"error: {exc}") from None
    finally:
        await nc.close()
