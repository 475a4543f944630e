"""`surge-order import FILE [--dry-run]`: bulk import of historical or offline orders.

Runs next to the order database (like `migrate`), not through the gateway: a 100,000-row file is
a batch job for an operator, and streaming it from disk keeps memory flat. Prints progress to
stderr and one JSON report to stdout; exit status 1 when any row was invalid (the valid orders
of a real run are recorded all the same). Needs only SURGE_ORDER_DATABASE_URL, and a dry run
needs nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from surge_platform.db import create_engine

from surge_order.adapters.import_files import UnsupportedFile, file_digest, read_rows
from surge_order.adapters.import_repository import ImportRepository
from surge_order.service_layer.order_import import ImportReport, import_rows

__all__ = ["ImportSettings", "main", "run"]


class ImportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURGE_ORDER_", extra="ignore", frozen=True)

    database_url: SecretStr


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="surge-order import", description="Import orders from a .csv or .xlsx file"
    )
    parser.add_argument("file", type=Path, help="the .csv or .xlsx file (first row: column names)")
    parser.add_argument("--dry-run", action="store_true", help="validate every row, record nothing")
    parser.add_argument(
        "--batch-size", type=int, default=1000, help="orders per transaction (default 1000)"
    )
    parser.add_argument(
        "--max-errors", type=int, default=1000, help="row errors listed in the report"
    )
    return parser


def _progress(report: ImportReport) -> None:
    sys.stderr.write(
        f"rows {report.rows:>9,}  orders {report.orders:>8,}  created {report.created:>8,}  "
        f"existing {report.existing:>8,}  invalid rows {report.invalid_rows:>7,}\n"
    )


async def run(
    path: Path, *, dry_run: bool, database_url: str | None, batch_size: int, max_errors: int
) -> ImportReport:
    digest = file_digest(path)
    if dry_run:
        return await import_rows(
            read_rows(path),
            digest=digest,
            sink=None,
            batch_size=batch_size,
            progress=_progress,
            max_errors=max_errors,
        )
    if database_url is None:
        raise ValueError("a real run needs SURGE_ORDER_DATABASE_URL")
    engine = create_engine(database_url, pool_size=1)
    try:
        repository = ImportRepository(engine, path.name)
        return await import_rows(
            read_rows(path),
            digest=digest,
            sink=repository.record,
            batch_size=batch_size,
            progress=_progress,
            max_errors=max_errors,
        )
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not args.file.is_file():
        sys.stderr.write(f"surge-order import: no such file: {args.file}\n")
        return 2
    if not 1 <= args.batch_size <= 10_000:
        sys.stderr.write("surge-order import: --batch-size must be between 1 and 10000\n")
        return 2
    url = None if args.dry_run else ImportSettings().database_url.get_secret_value()
    try:
        report = asyncio.run(
            run(
                args.file,
                dry_run=args.dry_run,
                database_url=url,
                batch_size=args.batch_size,
                max_errors=args.max_errors,
            )
        )
    except UnsupportedFile as exc:
        sys.stderr.write(f"surge-order import: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(report.as_dict(), indent=1) + "\n")
    return 1 if report.invalid_rows else 0
