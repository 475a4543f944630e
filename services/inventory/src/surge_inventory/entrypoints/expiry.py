"""The expiry sweeper: a timer task that releases overdue held reservations.

Safe with several replicas: each batch claims its rows with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from surge_platform.logging import get_logger

from surge_inventory.service_layer import handlers
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork

__all__ = ["ExpirySweeper"]

GAUGE_EVERY_SECONDS = 2.0

_log = get_logger("surge.inventory.expiry")


class ExpirySweeper:
    def __init__(self, uow_factory: Callable[[], InventoryUnitOfWork], deps: handlers.Deps) -> None:
        self._uow = uow_factory
        self._deps = deps

    async def sweep(self) -> int:
        """Expire everything due now, batch by batch; returns how many expired."""
        total = 0
        batch = self._deps.settings.reservation_sweep_batch
        while True:
            expired = await handlers.expire_due(self._uow(), deps=self._deps)
            total += expired
            if expired < batch:
                return total

    async def observe(self) -> None:
        async with self._uow() as uow:
            self._deps.metrics.held.set(await uow.reservations.count_held())

    async def run(self, stop: asyncio.Event) -> None:
        interval = self._deps.settings.reservation_sweep_interval_seconds
        observed = 0.0
        while not stop.is_set():
            try:
                expired = await self.sweep()
                if expired:
                    _log.info("reservations expired", count=expired)
                if time.monotonic() - observed > GAUGE_EVERY_SECONDS:
                    observed = time.monotonic()
                    await self.observe()
            except Exception:
                _log.exception("expiry sweep failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
