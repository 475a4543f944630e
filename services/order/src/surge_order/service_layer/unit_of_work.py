"""The order service's unit of work: one transaction with the order repository bound to it.

`after_commit()` (from SqlUnitOfWork) defers work that must only happen if the transaction
commits (metrics), so a rolled-back unit of work never counts an order that does not exist.
"""

from __future__ import annotations

from surge_platform.db import SqlUnitOfWork

from surge_order.adapters.repository import OrderRepository

__all__ = ["OrderUnitOfWork"]


class OrderUnitOfWork(SqlUnitOfWork):
    orders: OrderRepository

    async def _open(self) -> None:
        self.orders = OrderRepository(self.connection)
