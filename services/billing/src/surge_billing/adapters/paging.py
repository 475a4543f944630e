"""Newest-first pages over tables keyed by UUIDv7 ids (id order is creation order)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import TextClause, text

__all__ = ["newest_first"]


def newest_first(
    columns: str,
    table: str,
    equals: Mapping[str, str | None],
    *,
    before_id: str | None,
    limit: int,
) -> tuple[TextClause, dict[str, Any]]:
    """The page query and its parameters: rows whose columns equal the given non-empty values,
    with ids below `before_id` (the last id of the previous page)."""
    where = [f"{column} = :{column}" for column, value in equals.items() if value]
    params: dict[str, Any] = {column: value for column, value in equals.items() if value}
    params["limit"] = limit
    if before_id is not None:
        where.append("id < CAST(:before_id AS uuid)")
        params["before_id"] = before_id
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    query = text(f"SELECT {columns} FROM {table} {clause}ORDER BY id DESC LIMIT :limit")
    return query, params
