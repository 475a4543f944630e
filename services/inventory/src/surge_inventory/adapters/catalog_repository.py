"""Catalog queries: SKUs and warehouses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from surge_inventory.domain.model import Sku, Warehouse

__all__ = ["CatalogRepository"]

_SKU_COLUMNS = "sku, name, unit_price_minor, currency, weight_grams, category, active"

_INSERT_SKU = text(
    f"INSERT INTO skus ({_SKU_COLUMNS}) VALUES (:sku, :name, :unit_price_minor, :currency, "
    ":weight_grams, :category, :active) ON CONFLICT (sku) DO NOTHING RETURNING 1"
)
_GET_SKUS = text(f"SELECT {_SKU_COLUMNS} FROM skus WHERE sku = ANY(CAST(:skus AS text[]))")
_INSERT_WAREHOUSE = text(
    "INSERT INTO warehouses (code, name, region) VALUES (:code, :name, :region) "
    "ON CONFLICT (code) DO NOTHING RETURNING 1"
)
_WAREHOUSES = text(
    "SELECT code, name, region FROM warehouses "
    "WHERE CAST(:region AS text) IS NULL OR region = :region ORDER BY code"
)
_WAREHOUSE_EXISTS = text("SELECT 1 FROM warehouses WHERE code = :code")


class CatalogRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, sku: Sku) -> bool:
        """False when the code is taken."""
        result = await self._connection.execute(_INSERT_SKU, _sku_params(sku))
        return result.first() is not None

    async def get(self, code: str) -> Sku | None:
        found = await self.get_many([code])
        return found[0] if found else None

    async def get_many(self, codes: Sequence[str]) -> list[Sku]:
        rows = (await self._connection.execute(_GET_SKUS, {"skus": list(codes)})).all()
        return sorted((_sku(row) for row in rows), key=lambda s: s.sku)

    async def add_warehouse(self, warehouse: Warehouse) -> bool:
        result = await self._connection.execute(
            _INSERT_WAREHOUSE,
            {"code": warehouse.code, "name": warehouse.name, "region": warehouse.region},
        )
        return result.first() is not None

    async def warehouses(self, region: str | None = None) -> list[Warehouse]:
        rows = (await self._connection.execute(_WAREHOUSES, {"region": region})).all()
        return [Warehouse(row.code, row.name, row.region) for row in rows]

    async def warehouse_exists(self, code: str) -> bool:
        result = await self._connection.execute(_WAREHOUSE_EXISTS, {"code": code})
        return result.first() is not None


def _sku_params(sku: Sku) -> dict[str, Any]:
    return {
        "sku": sku.sku,
        "name": sku.name,
        "unit_price_minor": sku.unit_price_minor,
        "currency": sku.currency,
        "weight_grams": sku.weight_grams,
        "category": sku.category,
        "active": sku.active,
    }


def _sku(row: Any) -> Sku:
    return Sku(
        row.sku,
        row.name,
        row.unit_price_minor,
        row.currency,
        row.weight_grams,
        row.category,
        row.active,
    )
