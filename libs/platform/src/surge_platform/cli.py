"""The command line every service shares: `surge-<name> serve|migrate`.

def main() -> None:
    run_cli("inventory", InventorySettings, bootstrap.build, MIGRATIONS)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvloop

from surge_platform.config import ServiceSettings, load_settings
from surge_platform.db import create_engine
from surge_platform.messaging import Topology, connect
from surge_platform.migrations import migrate
from surge_platform.operations import DeadLetters, backlog
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
    commands.add_parser("backlog", help="outbox rows not yet published and consumer lag")
    dlq = commands.add_parser("dlq", help="list, show, redrive or purge dead-lettered messages")
    dlq.add_argument("action", choices=["list", "show", "redrive", "purge"])
    dlq.add_argument("sequence", nargs="*", type=int, help="dead letter numbers (from list)")
    dlq.add_argument("--all", action="store_true", help="redrive or purge every dead letter")
    args = parser.parse_args(argv)

    settings = load_settings(settings_type)
    if args.command == "migrate":
        migrate(migrations, settings.database_url.get_secret_value())
    elif args.command == "backlog":
        uvloop.run(_backlog(name, settings))
    elif args.command == "dlq":
        uvloop.run(_dead_letters(name, settings, args))
    else:
        uvloop.run(serve(settings, build, Role(args.role)))


async def _backlog(name: str, settings: ServiceSettings) -> None:
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
