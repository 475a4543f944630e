"""The restock record of customer returns: one row per return, locked while it changes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["RestockRecord", "RestockUnits", "ReturnRestockRepository"]

_INSERT = text(
    "INSERT INTO return_restocks (return_id, order_id, lines, status) "
    "VALUES (:return_id, :order_id, CAST(:lines AS jsonb), 'restocked') "
    "ON CONFLICT (return_id) DO NOTHING RETURNING return_id"
)
_FOR_UPDATE = text(
    "SELECT return_id, order_id, lines, status, shortfall FROM return_restocks "
    "WHERE return_id = :return_id FOR UPDATE"
)
_REVERSE = text(
    "UPDATE return_restocks SET status = 'reversed', reversed_at = now(), "
    "shortfall = CAST(:shortfall AS jsonb) WHERE return_id = :return_id"
)


@dataclass(frozen=True)
class RestockUnits:
    sku: str
    warehouse: str
    quantity: int


@dataclass(frozen=True)
class RestockRecord:
    return_id: str
    order_id: str
    lines: tuple[RestockUnits, ...]
    reversed: bool
    shortfall: tuple[RestockUnits, ...]


def _units(raw: str | Sequence[dict[str, Any]]) -> tuple[RestockUnits, ...]:
    items = json.loads(raw) if isinstance(raw, str) else raw
    return tuple(RestockUnits(**item) for item in items)


def _json(units: Sequence[RestockUnits]) -> str:
    return json.dumps(
        [{"sku": u.sku, "warehouse": u.warehouse, "quantity": u.quantity} for u in units]
    )


class ReturnRestockRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(self, return_id: str, order_id: str, lines: Sequence[RestockUnits]) -> bool:
        """Record the return's restock; False if it was recorded before (do nothing again)."""
        params = {"return_id": return_id, "order_id": order_id, "lines": _json(lines)}
        return (await self._connection.execute(_INSERT, params)).first() is not None

    async def get_for_update(self, return_id: str) -> RestockRecord | None:
        row = (await self._connection.execute(_FOR_UPDATE, {"return_id": return_id})).first()
        if row is None:
            return None
        return RestockRecord(
            return_id=row.return_id,
            order_id=row.order_id,
            lines=_units(row.lines),
            reversed=row.status == "reversed",
            shortfall=_units(row.shortfall),
        )

    async def mark_reversed(self, return_id: str, shortfall: Sequence[RestockUnits]) -> None:
        params = {"return_id": return_id, "shortfall": _json(shortfall)}
        await self._connection.execute(_REVERSE, params)
