"""The inventory group-commit hook (`surge_platform.db.on_chunk`); see `read_ahead.py`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surge.inventory.v1 import inventory_pb2 as pb
from surge_platform.db import BatchTransaction

from surge_inventory.adapters.read_ahead import KEY, ReadAhead
from surge_inventory.adapters.reservation_repository import ReservationRepository
from surge_inventory.adapters.stock_repository import StockRepository

__all__ = ["read_chunk"]

_NAMING_A_RESERVATION = (
    pb.CommitReservationCommand,
    pb.ReleaseStockCommand,
    pb.ConfirmReservationCommand,
)


async def read_chunk(batch: BatchTransaction, messages: Sequence[Any]) -> None:
    """Lock the chunk's reservations, read its SKUs' levels (see `read_ahead`)."""
    order_ids = sorted(
        {m.order_id for m in messages if isinstance(m, _NAMING_A_RESERVATION) and m.order_id}
    )
    skus = sorted(
        {
            line.sku
            for m in messages
            if isinstance(m, pb.ReserveStockCommand)
            for line in m.lines
            if line.sku
        }
    )
    if not order_ids and not skus:
        return
    found = ReadAhead()
    if order_ids:
        locked = await ReservationRepository(batch.connection).lock_many(order_ids)
        found.reservations.update((r.order_id, r) for r in locked)
    if skus:
        active, levels = await StockRepository(batch.connection).levels(skus)
        found.skus.update(skus)
        found.active.update(active)
        found.levels.update(((lv.sku, lv.warehouse), lv) for lv in levels)
    batch.prefetched[KEY] = found
