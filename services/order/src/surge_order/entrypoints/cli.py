"""`surge-order serve|migrate|backlog|dlq|sagas` (see surge_platform.cli and `saga_cli`)."""

from __future__ import annotations

import sys
from typing import Any

from surge_platform.cli import Command, run_cli

from surge_order.config import OrderSettings

__all__ = ["main"]


def _sagas_help(_: Any) -> None:
    from surge_order.entrypoints import saga_cli

    saga_cli.run(["--help"])


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["sagas"]:
        # Its own arguments (platform `Command`s take none), and no database/NATS settings: it
        # talks to the running service's gRPC API.
        from surge_order.entrypoints import saga_cli

        saga_cli.run(args[1:])
        return
    run_cli(
        "order",
        OrderSettings,
        "surge_order.bootstrap:build",
        argv,
        commands={
            "sagas": Command("list, retry or force-compensate sagas (sagas --help)", _sagas_help)
        },
    )
