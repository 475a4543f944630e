"""Recording imported orders: one INSERT per batch (arrays unnested server-side), idempotent on
the order's (channel, client_order_id) and (channel, external_id) keys.

`ON CONFLICT DO NOTHING` without a target covers both unique keys: an order the channel already
sent live under the same external id is not duplicated by importing it later either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.ids import new_id

from surge_order.service_layer.order_import import ImportOrder

__all__ = ["ImportRepository"]

_INSERT = text(
    """
    WITH rows AS (
        SELECT * FROM unnest(
            CAST(:id AS uuid[]), CAST(:client_order_id AS text[]), CAST(:channel AS text[]),
            CAST(:external_id AS text[]), CAST(:customer_id AS text[]),
            CAST(:customer_name AS text[]), CAST(:customer_phone AS text[]),
            CAST(:province AS text[]), CAST(:city AS text[]), CAST(:district AS text[]),
            CAST(:line1 AS text[]), CAST(:postal_code AS text[]), CAST(:lines AS text[]),
            CAST(:currency AS text[]), CAST(:subtotal AS bigint[]), CAST(:discount AS bigint[]),
            CAST(:total AS bigint[]), CAST(:terms AS text[]), CAST(:status AS text[]),
            CAST(:placed_at AS timestamptz[])
        ) AS r(id, client_order_id, channel, external_id, customer_id, customer_name,
               customer_phone, province, city, district, line1, postal_code, lines, currency,
               subtotal, discount, total, terms, status, placed_at)
    ),
    created AS (
        INSERT INTO orders (id, client_order_id, channel, external_id, customer_id,
                            customer_name, customer_phone, province, city, district, line1,
                            postal_code, lines, currency, subtotal_minor, discount_minor,
                            total_minor, payment_terms, status, tags, paid, created_at,
                            updated_at)
        SELECT id, client_order_id, channel, external_id, customer_id, customer_name,
               customer_phone, province, city, district, line1, postal_code,
               CAST(lines AS jsonb), currency, subtotal, discount, total, terms, status,
               ARRAY['imported'], status <> 'cancelled', placed_at, now()
          FROM rows
        ON CONFLICT DO NOTHING
        RETURNING id, status, created_at
    )
    INSERT INTO order_status_history (order_id, from_status, to_status, reason, at)
    SELECT id, NULL, status, :reason, created_at FROM created
    RETURNING order_id
    """
)


class ImportRepository:
    """Writes batches in their own transaction each: a crash loses at most the batch in flight,
    and running the import again fills in what is missing."""

    def __init__(self, engine: AsyncEngine, source: str) -> None:
        self._engine = engine
        self._reason = f"imported from {source}"[:200]

    async def record(self, orders: Sequence[ImportOrder]) -> int:
        """Insert the orders that do not exist yet; returns how many were created."""
        params = _columns(orders)
        params["reason"] = self._reason
        async with self._engine.begin() as conn:
            rows = (await conn.execute(_INSERT, params)).all()
        return len(rows)


def _columns(orders: Sequence[ImportOrder]) -> dict[str, Any]:
    cols: dict[str, list[Any]] = {
        name: []
        for name in (
            "id",
            "client_order_id",
            "channel",
            "external_id",
            "customer_id",
            "customer_name",
            "customer_phone",
            "province",
            "city",
            "district",
            "line1",
            "postal_code",
            "lines",
            "currency",
            "subtotal",
            "discount",
            "total",
            "terms",
            "status",
            "placed_at",
        )
    }
    for order in orders:
        first = order.lines[0]
        subtotal = sum(ln.quantity * ln.unit_price_minor for ln in order.lines)
        discount = sum(ln.discount_minor for ln in order.lines)
        values = (
            new_id(),
            order.client_order_id,
            first.channel,
            first.order_ref or None,
            first.customer_id,
            first.customer_name,
            first.customer_phone,
            *first.address,
            # The order table's line layout (see adapters/repository.py); weight unknown: 0.
            json.dumps(
                [
                    [
                        ln.sku,
                        ln.name,
                        ln.quantity,
                        ln.unit_price_minor,
                        ln.discount_minor,
                        ln.total_minor,
                        0,
                    ]
                    for ln in order.lines
                ]
            ),
            first.currency,
            subtotal,
            discount,
            subtotal - discount,
            first.payment_terms,
            first.status,
            first.placed_at,
        )
        for name, value in zip(cols, values, strict=True):
            cols[name].append(value)
    return dict(cols)
