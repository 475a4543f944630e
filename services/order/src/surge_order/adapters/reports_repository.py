"""Sales aggregation in SQL over the order table (lines are a jsonb array of
[sku, name, quantity, unit_price_minor, discount_minor, total_minor, weight_grams]).

A sale is an order placed in the period that was not cancelled or closed: nothing was sold
otherwise. Refunds are what was refunded through returns (`returns` rows in state refunded,
from the returns feature) on those same orders, whenever it was refunded: GMV - refunds is the
period's net sales. Period scans use `orders_created` (or `orders_channel_created` with a
channel); refunds use `returns_by_order`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["Grouping", "ReportsRepository", "SalesAggregate"]

_NOT_SOLD = "('cancelled', 'closed')"


class Grouping(enum.Enum):
    DAY = "day"
    CHANNEL = "channel"
    SKU = "sku"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class SalesAggregate:
    key: str
    currency: str
    order_count: int
    gmv_minor: int
    units: int
    refunds_minor: int


_KEYS = {
    Grouping.DAY: "to_char((o.created_at AT TIME ZONE :tz)::date, 'YYYY-MM-DD')",
    Grouping.CHANNEL: "o.channel",
    Grouping.CUSTOMER: "o.customer_id",
}


def _where(channel: str) -> str:
    clause = (
        "o.created_at >= :start AND o.created_at < :end "
        f"AND o.status NOT IN {_NOT_SOLD} "
        "AND (CAST(:currency AS text) = '' OR o.currency = :currency)"
    )
    return clause + (" AND o.channel = :channel" if channel else "")


def _grouped_sql(grouping: Grouping | None, channel: str) -> str:
    where = _where(channel)
    if grouping is Grouping.SKU:
        return f"""
            SELECT l->>0 AS key, o.currency, count(DISTINCT o.id) AS order_count,
                   COALESCE(sum((l->>5)::bigint), 0) AS gmv_minor,
                   COALESCE(sum((l->>2)::bigint), 0) AS units,
                   COALESCE(sum((SELECT sum((rl->>'amount_minor')::bigint)
                                   FROM returns r, jsonb_array_elements(r.lines) AS rl
                                  WHERE r.order_id = o.id AND r.state = 'refunded'
                                    AND rl->>'sku' = l->>0)), 0) AS refunds_minor
              FROM orders o CROSS JOIN LATERAL jsonb_array_elements(o.lines) AS l
             WHERE {where}
             GROUP BY 1, 2 ORDER BY 1, 2
        """
    key = _KEYS[grouping] if grouping is not None else "'total'"
    group = "GROUP BY 1, 2 ORDER BY 1, 2" if grouping is not None else "GROUP BY 2"
    return f"""
        SELECT {key} AS key, o.currency, count(*) AS order_count,
               COALESCE(sum(o.total_minor), 0) AS gmv_minor,
               COALESCE(sum((SELECT sum((l->>2)::bigint)
                               FROM jsonb_array_elements(o.lines) AS l)), 0) AS units,
               COALESCE(sum((SELECT sum(r.amount_minor) FROM returns r
                               WHERE r.order_id = o.id AND r.state = 'refunded')), 0)
                   AS refunds_minor
          FROM orders o
         WHERE {where}
         {group}
    """


class ReportsRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def sales(
        self,
        *,
        grouping: Grouping | None,
        start: datetime,
        end: datetime,
        time_zone: str,
        channel: str,
        currency: str,
    ) -> list[SalesAggregate]:
        """One aggregate per (group, currency); `grouping=None` is the whole period."""
        params: dict[str, Any] = {
            "start": start,
            "end": end,
            "tz": time_zone,
            "channel": channel,
            "currency": currency,
        }
        rows = (await self._connection.execute(text(_grouped_sql(grouping, channel)), params)).all()
        return [
            SalesAggregate(
                key=str(r.key),
                currency=str(r.currency),
                order_count=int(r.order_count),
                gmv_minor=int(r.gmv_minor),
                units=int(r.units),
                refunds_minor=int(r.refunds_minor),
            )
            for r in rows
        ]

    async def time_zone_exists(self, name: str) -> bool:
        row = await self._connection.execute(
            text("SELECT 1 FROM pg_timezone_names WHERE name = :name"), {"name": name}
        )
        return row.first() is not None
