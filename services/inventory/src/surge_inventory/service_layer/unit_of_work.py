"""The inventory unit of work (one transaction), and a reader for queries (no transaction)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from surge_platform.db import SqlUnitOfWork

from surge_inventory.adapters.read_ahead import ReservationWrites
from surge_inventory.adapters.repository import (
    CatalogRepository,
    ReservationRepository,
    StockRepository,
)
from surge_inventory.adapters.returns_repository import ReturnRestockRepository

__all__ = ["InventoryReader", "InventoryUnitOfWork"]


class InventoryUnitOfWork(SqlUnitOfWork):
    catalog: CatalogRepository
    stock: StockRepository
    reservations: ReservationRepository
    returns: ReturnRestockRepository

    async def _open(self) -> None:
        self.catalog = CatalogRepository(self.connection)
        self.stock = StockRepository(self.connection)
        self.reservations = ReservationRepository(
            self.connection, lambda: self.deferred(ReservationWrites)
        )
        self.returns = ReturnRestockRepository(self.connection)


class InventoryReader:
    """Repositories on an autocommit connection, for read-only rpcs.

    A query needs no transaction: skipping BEGIN and ROLLBACK saves two round trips on hot reads
    such as BatchGetSkus, which order placement calls for every order. Never write through it.
    """

    catalog: CatalogRepository
    stock: StockRepository
    reservations: ReservationRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __aenter__(self) -> Self:
        self._connection: AsyncConnection = await self._engine.connect()
        await self._connection.execution_options(isolation_level="AUTOCOMMIT")
        self.catalog = CatalogRepository(self._connection)
        self.stock = StockRepository(self._connection)
        self.reservations = ReservationRepository(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._connection.close()
