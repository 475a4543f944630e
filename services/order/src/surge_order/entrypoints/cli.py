"""`surge-order serve|migrate|backlog|dlq|sagas|import` (see surge_platform.cli and `saga_cli`)."""

from __future__ import annotations

import sys
from typing import Any

from surge_platform.cli import Command, run_cli

from surge_order.config import OrderSettings

__all__ = ["main"]


def _sagas_help(_: Any) -> None:
    from surge_order.entrypoints import saga_cli

    saga_cli.run(["--help"])


def _import_help(_: Any) -> None:
    from surge_order.entrypoints import import_cli

    import_cli.main(["--help"])


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["sagas"]:
        # Its own arguments (platform `Command`s take none), and no database/NATS settings: it
        # talks to the running service's gRPC API.
        from surge_order.entrypoints import saga_cli

        saga_cli.run(args[1:])
        return
    if args[:1] == ["import"]:
        # Its own arguments, and only the database URL (a dry run needs no settings at all).
        from surge_order.entrypoints import import_cli

        sys.exit(import_cli.main(args[1:]))
    run_cli(
        "order",
        OrderSettings,
        "surge_order.bootstrap:build",
        argv,
        commands={
            "sagas": Command("list, retry or force-compensate sagas (sagas --help)", _sagas_help),
            "import": Command("import orders from .csv/.xlsx (import --help)", _import_help),
        },
    )
