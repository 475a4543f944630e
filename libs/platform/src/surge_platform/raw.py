"""Raw asyncpg on the hot paths, inside a SQLAlchemy unit of work.

SQLAlchemy Core costs about three times the CPU of asyncpg per statement (DESIGN.md §9:
compilation cache lookups, the greenlet hop, result metadata). These helpers run the same
`text()` statement, with the same named parameters, directly on the asyncpg connection under the
unit of work's AsyncConnection, in its transaction, and raise the exceptions SQLAlchemy would
(e.g. `IntegrityError`). Use them for constant statements on hot paths; everything else stays
on `connection.execute()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg
from sqlalchemy import TextClause
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["RawRow", "raw_execute", "raw_execute_many", "raw_fetch", "raw_fetchrow"]

# SURGE_RAW_SQL=0 sends these statements through SQLAlchemy instead: a switch for measuring the
# difference (BENCHMARKS.md) and a way out should the driver path ever misbehave.
_ENABLED = os.environ.get("SURGE_RAW_SQL", "1") != "0"


class RawRow(asyncpg.Record):  # type: ignore[misc]
    """An asyncpg record that also reads columns as attributes, like a SQLAlchemy Row."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


_positional: dict[TextClause, tuple[str, tuple[str, ...]]] = {}


def _compiled(connection: AsyncConnection, statement: TextClause) -> tuple[str, tuple[str, ...]]:
    """`:name` placeholders → `$n` (compiled once per statement object) and the name order."""
    found = _positional.get(statement)
    if found is None:
        compiled = statement.compile(dialect=connection.dialect)
        found = (str(compiled), tuple(compiled.positiontup or ()))
        if len(_positional) > 1024:  # only constant statements belong here; bound it anyway
            _positional.clear()
        _positional[statement] = found
    return found


async def _driver(
    connection: AsyncConnection, begin: bool = True
) -> tuple[Any, asyncpg.Connection]:
    """The SQLAlchemy adapter and its asyncpg connection, with the transaction begun.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, on its first statement; a raw statement
    first must begin it the same way, or it would run outside the unit of work's transaction.
    `begin=False` (a read, see `raw_fetchrow`) leaves a transaction not yet begun alone.
    """
    adapter: Any = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    if begin and adapter._transaction is None and connection.in_transaction():
        await adapter._start_transaction()
    return adapter, adapter._connection


def _translated(connection: AsyncConnection, adapter: Any, sql: str, error: Exception) -> Exception:
    """The exception SQLAlchemy would have raised (e.g. IntegrityError), for callers that catch."""
    try:
        adapter._handle_exception(error)
    except Exception as dbapi_error:
        dbapi = connection.dialect.loaded_dbapi
        return sa_exc.DBAPIError.instance(sql, None, dbapi_error, dbapi.Error)
    return error  # pragma: no cover - _handle_exception always raises


async def _through_sqlalchemy(
    connection: AsyncConnection, statement: TextClause, params: Any
) -> Any:
    """The same statement through SQLAlchemy (SURGE_RAW_SQL=0); outside a transaction it
    commits at once, as the raw path's autocommit does."""
    autocommit = not connection.in_transaction()
    result = await connection.execute(statement, params)
    if autocommit:
        await connection.commit()
    return result


# What a statement can fail with on the driver: a server error, or a dead connection (the server
# restarted or killed the backend), which asyncpg reports as InterfaceError, an OSError or, when
# the termination notice arrived between two statements, InternalClientError.
_DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)


async def _failure(
    connection: AsyncConnection, adapter: Any, sql: str, error: Exception
) -> Exception:
    """What to raise for a failed raw statement. A dead connection is invalidated first, as
    SQLAlchemy does for its own statements: otherwise the pool would hand it out again and every
    later unit of work on it would fail too."""
    if adapter._connection.is_closed() or isinstance(error, asyncpg.InternalClientError):
        await connection.invalidate()
    if isinstance(error, OSError):
        return error  # a ConnectionError to callers, like a refused connection at checkout
    return _translated(connection, adapter, sql, error)


def _args(names: tuple[str, ...], params: Mapping[str, Any]) -> list[Any]:
    return [params[name] for name in names]


async def raw_fetch(
    connection: AsyncConnection, statement: TextClause, params: Mapping[str, Any] | None = None
) -> list[RawRow]:
    if not _ENABLED:
        return list((await _through_sqlalchemy(connection, statement, params)).all())
    sql, names = _compiled(connection, statement)
    adapter, driver = await _driver(connection)
    try:
        rows: list[RawRow] = await driver.fetch(
            sql, *_args(names, params or {}), record_class=RawRow
        )
    except _DRIVER_ERRORS as error:
        raise await _failure(connection, adapter, sql, error) from error
    return rows


async def raw_fetchrow(
    connection: AsyncConnection,
    statement: TextClause,
    params: Mapping[str, Any] | None = None,
    *,
    begin: bool = True,
) -> RawRow | None:
    """One row (or None). `begin=False` is for a read-only unit of work's only read: if its
    transaction has not begun on the server yet, the statement runs on its own (one statement
    sees one snapshot either way, and a plain SELECT takes no lock), saving BEGIN and ROLLBACK."""
    if not _ENABLED:
        found: RawRow | None = (await _through_sqlalchemy(connection, statement, params)).first()
        return found
    sql, names = _compiled(connection, statement)
    adapter, driver = await _driver(connection, begin)
    try:
        row: RawRow | None = await driver.fetchrow(
            sql, *_args(names, params or {}), record_class=RawRow
        )
    except _DRIVER_ERRORS as error:
        raise await _failure(connection, adapter, sql, error) from error
    return row


async def raw_execute(
    connection: AsyncConnection, statement: TextClause, params: Mapping[str, Any] | None = None
) -> None:
    if not _ENABLED:
        await _through_sqlalchemy(connection, statement, params)
        return
    sql, names = _compiled(connection, statement)
    adapter, driver = await _driver(connection)
    try:
        await driver.execute(sql, *_args(names, params or {}))
    except _DRIVER_ERRORS as error:
        raise await _failure(connection, adapter, sql, error) from error


async def raw_execute_many(
    connection: AsyncConnection, statement: TextClause, rows: Iterable[Mapping[str, Any]]
) -> None:
    """One statement for many parameter sets, pipelined in one round trip (asyncpg executemany)."""
    if not _ENABLED:
        await _through_sqlalchemy(connection, statement, list(rows))
        return
    sql, names = _compiled(connection, statement)
    adapter, driver = await _driver(connection)
    try:
        await driver.executemany(sql, [_args(names, row) for row in rows])
    except _DRIVER_ERRORS as error:
        raise await _failure(connection, adapter, sql, error) from error
