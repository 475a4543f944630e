"""The order tables' read side: lookups and listings that lock nothing and write nothing.

`OrderRepository` (adapters/repository.py) extends it with the locks and writes of placement,
payments and the saga, on the same connection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import raw_fetchrow

from surge_order.adapters import sql
from surge_order.adapters.order_rows import HistoryRecord, OrderFilter, StepRecord, order_from_row
from surge_order.domain.model import Order

__all__ = ["OrderQueries"]


class OrderQueries:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def find_existing(
        self, channel: str, client_order_id: str, external_id: str | None
    ) -> str | None:
        row = await raw_fetchrow(
            self._connection,
            sql.FIND_EXISTING,
            {"channel": channel, "client_order_id": client_order_id, "external_id": external_id},
        )
        return str(row.id) if row else None

    async def steps(self, saga_id: str) -> list[StepRecord]:
        rows = (await self._connection.execute(sql.STEPS, {"saga_id": saga_id})).all()
        return [StepRecord(*row) for row in rows]

    async def history(self, order_id: str) -> list[HistoryRecord]:
        rows = (await self._connection.execute(sql.HISTORY, {"order_id": order_id})).all()
        return [HistoryRecord(*row) for row in rows]

    async def list(
        self, where: OrderFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[Order]:
        clauses: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        if where.status is not None:
            clauses.append("o.status = :status")
            params["status"] = where.status.value
        if where.channel:
            clauses.append("o.channel = :channel")
            params["channel"] = where.channel
        if where.customer_id:
            clauses.append("o.customer_id = :customer_id")
            params["customer_id"] = where.customer_id
        if where.created_from is not None:
            clauses.append("o.created_at >= :created_from")
            params["created_from"] = where.created_from
        if where.created_to is not None:
            clauses.append("o.created_at < :created_to")
            params["created_to"] = where.created_to
        if after is not None:
            clauses.append("(o.created_at, o.id) < (:after_at, CAST(:after_id AS uuid))")
            params["after_at"], params["after_id"] = after
        condition = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        statement = text(
            f"SELECT {sql.ORDER_COLUMNS} FROM orders o {condition} "
            "ORDER BY o.created_at DESC, o.id DESC LIMIT :limit"
        )
        rows = (await self._connection.execute(statement, params)).all()
        return [order_from_row(row) for row in rows]

    async def has_payment(self, order_id: str, reference: str) -> bool:
        found = await self._connection.execute(
            sql.FIND_PAYMENT, {"order_id": order_id, "reference": reference}
        )
        return found.first() is not None
