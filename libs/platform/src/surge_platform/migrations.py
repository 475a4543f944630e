"""Alembic helpers: one `env.py` for every service and the shared messaging tables.

A service's `migrations/env.py` is just:

    from surge_platform.migrations import run_env
    run_env()

and its first revision calls `create_messaging_tables()` so the outbox and inbox live in the
service's own database.
"""

from __future__ import annotations

import asyncio
import importlib.resources
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from surge_platform.outbox import NOTIFY_CHANNEL

__all__ = ["MESSAGING_DDL", "create_messaging_tables", "migrate", "migrations_of", "run_env"]


def migrations_of(package: str) -> Path:
    """The Alembic script folder shipped inside a service package (`surge_x/migrations`).

    Inside the package so that a wheel or container image carries it: `surge-x migrate` then
    works the same from a checkout and from an installed image.
    """
    return Path(str(importlib.resources.files(package) / "migrations"))


def migrate(script_location: Path, database_url: str, revision: str = "heads") -> None:
    """Upgrade the database at `database_url` to `revision` (used by `surge-<name> migrate`).

    "heads": features may add migrations on parallel branches of one service (Alembic branches);
    every branch is applied.
    """
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, revision)


def run_env() -> None:
    """Body of every service's Alembic env.py: online migrations over an async engine."""
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set")

    def run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(main())


MESSAGING_DDL: tuple[str, ...] = (
    """
    CREATE TABLE outbox (
        id uuid PRIMARY KEY,
        subject text NOT NULL,
        msg_type text NOT NULL,
        payload bytea NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    f"""
    CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$
    """,
    "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()",
    """
    CREATE TABLE inbox (
        consumer text NOT NULL,
        message_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
    )
    """,
    "CREATE INDEX inbox_processed_at ON inbox (processed_at)",
)


def create_messaging_tables() -> None:
    """The outbox (with its NOTIFY trigger) and inbox tables, in a service's first revision."""
    for statement in MESSAGING_DDL:
        op.execute(statement)
