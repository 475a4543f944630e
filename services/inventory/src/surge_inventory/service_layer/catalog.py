"""Catalog and stock operations behind the gRPC API: create SKUs, adjust stock, and queries."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from surge_platform import errors

from surge_inventory.adapters.metrics import InventoryMetrics
from surge_inventory.adapters.repository import StockRow
from surge_inventory.domain import model
from surge_inventory.service_layer.errors import (
    InsufficientFreeStock,
    ReservationNotFound,
    SkuExists,
    SkuNotFound,
    WarehouseNotFound,
)
from surge_inventory.service_layer.unit_of_work import InventoryReader, InventoryUnitOfWork

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_BATCH",
    "MAX_PAGE_SIZE",
    "StockPage",
    "StockView",
    "adjust_stock",
    "create_sku",
    "get_reservation",
    "get_sku",
    "get_skus",
    "get_stock",
    "list_stock",
    "list_warehouses",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_BATCH = 1000


@dataclass(frozen=True)
class StockView:
    """One SKU's stock: totals and the per-warehouse rows (ordered by warehouse)."""

    sku: str
    rows: tuple[StockRow, ...]

    @property
    def on_hand(self) -> int:
        return sum(r.on_hand for r in self.rows)

    @property
    def reserved(self) -> int:
        return sum(r.reserved for r in self.rows)

    @property
    def available(self) -> int:
        return sum(r.available for r in self.rows)


@dataclass(frozen=True)
class StockPage:
    stocks: tuple[StockView, ...]
    next_page_token: str


async def create_sku(sku: model.Sku, uow: InventoryUnitOfWork) -> model.Sku:
    violations = sku.violations()
    if violations:
        raise errors.InvalidArgument("invalid SKU", field_violations=violations)
    async with uow:
        if not await uow.catalog.add(sku):
            raise SkuExists(sku.sku)
        await uow.commit()
    return sku


async def adjust_stock(
    uow: InventoryUnitOfWork,
    metrics: InventoryMetrics,
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reason: str,
    actor: str,
) -> StockView:
    violations = model.adjustment_violations(sku, warehouse, quantity, reason)
    if violations:
        raise errors.InvalidArgument("invalid stock adjustment", field_violations=violations)
    async with uow:
        if await uow.catalog.get(sku) is None:
            raise SkuNotFound(sku)
        if not await uow.catalog.warehouse_exists(warehouse):
            raise WarehouseNotFound(warehouse)
        done = await uow.stock.adjust(
            sku, warehouse, quantity, reason=reason.strip(), actor=actor.strip() or "unknown"
        )
        if not done:
            raise InsufficientFreeStock(sku, warehouse, quantity)
        rows = await uow.stock.rows_for([sku])
        await uow.commit()
    metrics.adjustments.labels("receive" if quantity > 0 else "remove").inc()
    return StockView(sku, tuple(rows))


async def get_sku(code: str, reader: InventoryReader) -> model.Sku:
    async with reader:
        found = await reader.catalog.get(code)
    if found is None:
        raise SkuNotFound(code)
    return found


async def get_skus(codes: Sequence[str], reader: InventoryReader) -> list[model.Sku]:
    unique = sorted(set(codes))
    if len(unique) > MAX_BATCH:
        raise errors.InvalidArgument(
            "too many SKUs", field_violations={"skus": f"at most {MAX_BATCH} codes"}
        )
    if not unique:
        return []
    async with reader:
        return await reader.catalog.get_many(unique)


async def list_warehouses(region: str, reader: InventoryReader) -> list[model.Warehouse]:
    async with reader:
        return await reader.catalog.warehouses(region or None)


async def get_stock(code: str, reader: InventoryReader) -> StockView:
    async with reader:
        if await reader.catalog.get(code) is None:
            raise SkuNotFound(code)
        rows = await reader.stock.rows_for([code])
    return StockView(code, tuple(rows))


async def list_stock(page_size: int, page_token: str, reader: InventoryReader) -> StockPage:
    if page_size < 0:
        raise errors.InvalidArgument(
            "invalid page size", field_violations={"page_size": "must not be negative"}
        )
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = _decode_token(page_token)
    async with reader:
        codes = await reader.stock.sku_page(after, size + 1)
        page = codes[:size]
        rows = await reader.stock.rows_for(page) if page else []
    by_sku: dict[str, list[StockRow]] = {code: [] for code in page}
    for row in rows:
        by_sku[row.sku].append(row)
    token = _encode_token(page[-1]) if len(codes) > size else ""
    return StockPage(tuple(StockView(c, tuple(r)) for c, r in by_sku.items()), token)


async def get_reservation(order_id: str, reader: InventoryReader) -> model.Reservation:
    async with reader:
        found = await reader.reservations.get(order_id)
    if found is None or found.status is model.ReservationStatus.REJECTED:
        raise ReservationNotFound(order_id)
    return found


def _encode_token(last_sku: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_sku}".encode()).decode()


def _decode_token(token: str) -> str:
    if not token:
        return ""
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not decoded.startswith("v1:"):
        raise errors.InvalidArgument(
            "invalid page token", field_violations={"page_token": "not a token from ListStock"}
        )
    return decoded.removeprefix("v1:")
