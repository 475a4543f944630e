"""The order service's unit of work: one transaction with the order repository bound to it.

`after_commit()` defers work that must only happen if the transaction commits (metrics), so a
rolled-back unit of work never counts an order that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

from surge_platform.db import SqlUnitOfWork
from surge_platform.logging import get_logger

from surge_order.adapters.repository import OrderRepository

__all__ = ["OrderUnitOfWork"]

_log = get_logger("surge.order.uow")


class OrderUnitOfWork(SqlUnitOfWork):
    orders: OrderRepository

    async def _open(self) -> None:
        self.orders = OrderRepository(self.connection)
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    async def commit(self) -> None:
        await super().commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                _log.exception("after-commit callback failed")
