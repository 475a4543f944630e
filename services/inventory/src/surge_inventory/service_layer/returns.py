"""Customer returns: restock resellable units into the warehouse they left from, or undo that.

Both commands come from the order service's return saga, which resends a step whose reply it
has not seen (with a new message id), so each is idempotent on the return id as well as on the
message: the `return_restocks` row is claimed in the same transaction as the stock change.
"""

from __future__ import annotations

from surge.inventory.v1 import returns_pb2 as pb
from surge_platform import errors
from surge_platform.logging import get_logger

from surge_inventory.adapters.repository import Delta
from surge_inventory.adapters.returns_repository import RestockUnits
from surge_inventory.service_layer.handlers import Deps
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork

__all__ = ["RETURNS_ACTOR", "restock_return", "reverse_restock"]

RETURNS_ACTOR = "return-saga"
_log = get_logger("surge.inventory.returns")


async def restock_return(
    cmd: pb.RestockReturnCommand, uow: InventoryUnitOfWork, *, deps: Deps
) -> None:
    """on_hand (and available) += the resellable units, with one audit row per line."""
    problems: dict[str, str] = {}
    if not cmd.return_id:
        problems["return_id"] = "is required"
    for i, line in enumerate(cmd.lines):
        if line.quantity <= 0:
            problems[f"lines[{i}].quantity"] = "must be positive"
    if problems:
        raise errors.InvalidArgument("invalid RestockReturnCommand", problems)
    units = [RestockUnits(ln.sku, ln.warehouse, ln.quantity) for ln in cmd.lines]
    if await uow.returns.claim(cmd.return_id, cmd.order_id, units):
        changed = await uow.stock.apply(
            [Delta(u.sku, u.warehouse, u.quantity, 0, cmd.return_id) for u in units],
            reason=f"return restock (order {cmd.order_id})",
            actor=RETURNS_ACTOR,
        )
        if changed != len({(u.sku, u.warehouse) for u in units}):
            # A warehouse row that no longer exists: never drop units silently; retry, then DLQ.
            raise errors.FailedPrecondition(
                f"return {cmd.return_id}: a stock row to restock into does not exist"
            )
        _log.info("return restocked", return_id=cmd.return_id, order_id=cmd.order_id)
    uow.outbox.add(
        deps.topology.subject_for(pb.ReturnRestocked),
        pb.ReturnRestocked(return_id=cmd.return_id, order_id=cmd.order_id),
    )
    await uow.commit()


async def reverse_restock(
    cmd: pb.ReverseRestockCommand, uow: InventoryUnitOfWork, *, deps: Deps
) -> None:
    """Compensation: take the restocked units off again, as far as they are still free."""
    record = await uow.returns.get_for_update(cmd.return_id)
    shortfall: tuple[RestockUnits, ...] = ()
    if record is not None and not record.reversed:
        missing = []
        for units in record.lines:
            taken = await uow.stock.adjust(
                units.sku,
                units.warehouse,
                -units.quantity,
                reason=f"return restock reversed: {cmd.reason or 'refund refused'}",
                actor=RETURNS_ACTOR,
            )
            if not taken:
                missing.append(units)
        shortfall = tuple(missing)
        await uow.returns.mark_reversed(cmd.return_id, shortfall)
        if shortfall:
            _log.warning("restock reversal short", return_id=cmd.return_id, shortfall=shortfall)
    elif record is not None:
        shortfall = record.shortfall
    uow.outbox.add(
        deps.topology.subject_for(pb.RestockReversed),
        pb.RestockReversed(
            return_id=cmd.return_id,
            order_id=cmd.order_id,
            shortfall=[
                pb.RestockLine(sku=u.sku, warehouse=u.warehouse, quantity=u.quantity)
                for u in shortfall
            ],
        ),
    )
    await uow.commit()
