"""The order service's unit of work: one transaction with the order repository bound to it.

`after_commit()` (from SqlUnitOfWork) defers work that must only happen if the transaction
commits (metrics), so a rolled-back unit of work never counts an order that does not exist.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import SqlUnitOfWork, current_batch

from surge_order.adapters.promotions_repository import PromotionRepository
from surge_order.adapters.reports_repository import ReportsRepository
from surge_order.adapters.repository import OrderRepository
from surge_order.adapters.returns_repository import ReturnRepository
from surge_order.adapters.rules_repository import RulesRepository
from surge_order.adapters.saga_writes import SagaWrites

__all__ = ["OrderUnitOfWork"]


class OrderUnitOfWork(SqlUnitOfWork):
    orders: OrderRepository
    returns: ReturnRepository
    promotions: PromotionRepository
    rules: RulesRepository
    reports: ReportsRepository

    def __init__(self, engine: AsyncEngine, *, batch_writes: bool = False) -> None:
        """`batch_writes`: the saga replies' units of work; inside a group commit their order
        writes go out with one statement per batch (adapters/saga_writes.py)."""
        super().__init__(engine)
        self._batch_writes = batch_writes

    async def _open(self) -> None:
        writes = (
            self.deferred(SagaWrites)
            if self._batch_writes and current_batch() is not None
            else None
        )
        self.orders = OrderRepository(self.connection, writes, self.outbox)
        self.returns = ReturnRepository(self.connection)
        self.promotions = PromotionRepository(self.connection)
        self.rules = RulesRepository(self.connection)
        self.reports = ReportsRepository(self.connection)
