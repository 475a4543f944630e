"""The order service's unit of work: one transaction with the order repository bound to it.

`after_commit()` (from SqlUnitOfWork) defers work that must only happen if the transaction
commits (metrics), so a rolled-back unit of work never counts an order that does not exist.
"""

from __future__ import annotations

from surge_platform.db import SqlUnitOfWork

from surge_order.adapters.promotions_repository import PromotionRepository
from surge_order.adapters.reports_repository import ReportsRepository
from surge_order.adapters.repository import OrderRepository
from surge_order.adapters.returns_repository import ReturnRepository
from surge_order.adapters.rules_repository import RulesRepository

__all__ = ["OrderUnitOfWork"]


class OrderUnitOfWork(SqlUnitOfWork):
    orders: OrderRepository
    returns: ReturnRepository
    promotions: PromotionRepository
    rules: RulesRepository
    reports: ReportsRepository

    async def _open(self) -> None:
        self.orders = OrderRepository(self.connection)
        self.returns = ReturnRepository(self.connection)
        self.promotions = PromotionRepository(self.connection)
        self.rules = RulesRepository(self.connection)
        self.reports = ReportsRepository(self.connection)
