"""Saga participant handlers: reserve, commit, release and confirm stock, and expire holds.

Each handler takes the protobuf command and a unit of work, writes its reply to the outbox and
commits once. Every handler is idempotent on the order (issue 3): a command repeated with a new
message id gets the same reply and has no second effect. Reserve remembers its outcome in the
`reservations` row keyed by `order_id` (UNIQUE), which also serialises two concurrent deliveries
of the same order: the loser's insert conflicts, it rolls back and its redelivery replays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from surge.inventory.v1 import inventory_pb2 as pb
from surge_platform import errors
from surge_platform.ids import new_id
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_inventory.adapters.metrics import InventoryMetrics
from surge_inventory.adapters.repository import Delta
from surge_inventory.config import InventorySettings
from surge_inventory.domain import model
from surge_inventory.domain.errors import ReservationStateError, UnknownWarehouseForReservation
from surge_inventory.service_layer.errors import DuplicateDelivery, ReservationNotFound
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork

__all__ = [
    "TEST_FAILURE_PREFIX",
    "Deps",
    "commit_reservation",
    "confirm_reservation",
    "expire_due",
    "release_stock",
    "reserve_stock",
]

TEST_FAILURE_PREFIX = "FAIL-RESERVE-"
SAGA_ACTOR = "order-saga"
SWEEPER_ACTOR = "expiry-sweeper"
INSUFFICIENT = "insufficient stock"

_log = get_logger("surge.inventory")


@dataclass(frozen=True)
class Deps:
    """What handlers need besides the unit of work (bound with functools.partial)."""

    settings: InventorySettings
    topology: Topology
    metrics: InventoryMetrics


async def reserve_stock(
    cmd: pb.ReserveStockCommand, uow: InventoryUnitOfWork, *, deps: Deps
) -> None:
    """Hold every line or nothing; reply StockReserved or StockRejected (once decided, always).

    The happy path is two statements: an unlocked read of the levels and one statement that
    locks, checks, moves the units and inserts the reservation (`StockRepository.reserve`). An
    order that already has an outcome is noticed by that statement or by the rejection's insert,
    and gets the first outcome again.
    """
    if not cmd.order_id:
        raise errors.InvalidArgument(
            "ReserveStockCommand has no order_id", {"order_id": "is required"}
        )
    wanted = model.merge_lines((line.sku, line.quantity) for line in cmd.lines)
    if not wanted:
        await _reject(uow, deps, cmd, "invalid command: no lines", ())
        return
    bad = [sku for sku, quantity in wanted.items() if not 0 < quantity <= model.MAX_LINE_QUANTITY]
    if bad:
        reason = f"invalid command: quantity must be 1-{model.MAX_LINE_QUANTITY}"
        await _reject(uow, deps, cmd, reason, bad)
        return
    if deps.settings.test_failures_enabled:
        hooked = [sku for sku in wanted if sku.startswith(TEST_FAILURE_PREFIX)]
        if hooked:
            reason = f"test hook: {TEST_FAILURE_PREFIX}* SKUs are rejected on purpose"
            await _reject(uow, deps, cmd, reason, hooked)
            return

    known, levels = await uow.stock.levels(list(wanted))
    missing = [sku for sku in wanted if not known.get(sku, False)]
    if missing:
        await _reject(uow, deps, cmd, "unknown or inactive SKU", missing)
        return

    ttl = cmd.ttl_seconds if cmd.ttl_seconds > 0 else deps.settings.reservation_ttl_seconds
    ttl = min(ttl, deps.settings.reservation_max_ttl_seconds)
    regions = {level.warehouse: level.region for level in levels}
    reservation_id = new_id()
    for _ in range(deps.settings.reserve_max_attempts):
        plan = model.allocate(wanted, cmd.region, levels, cmd.preferred_warehouse)
        if isinstance(plan, model.Shortage):
            await _reject(uow, deps, cmd, INSUFFICIENT, plan.skus, _units(plan.skus, levels))
            return
        attempt = await uow.stock.reserve(
            plan.allocations,
            list(wanted),
            reservation_id=reservation_id,
            order_id=cmd.order_id,
            saga_id=cmd.saga_id,
            region=cmd.region,
            ttl_seconds=ttl,
            actor=SAGA_ACTOR,
        )
        if attempt.prior:
            await _replay_prior(uow, deps, cmd)
            return
        if attempt.applied:
            if attempt.stamps is None:
                raise DuplicateDelivery(cmd.order_id)
            expires_at, _ = attempt.stamps
            _add(
                uow,
                deps,
                pb.StockReserved(
                    saga_id=cmd.saga_id,
                    order_id=cmd.order_id,
                    reservation_id=reservation_id,
                    allocations=[_allocation_pb(a) for a in plan.allocations],
                    expires_at=_timestamp(expires_at),
                ),
            )
            await uow.commit()
            deps.metrics.reservations.labels("reserved").inc()
            return
        # A concurrent order took stock between our read and our locks. The attempt returned
        # the locked (now stable) levels, so the next plan is final.
        deps.metrics.reserve_retries.inc()
        levels = [model.Level(s, w, regions.get(w, ""), a) for s, w, a in attempt.levels]
    await _reject(uow, deps, cmd, INSUFFICIENT, list(wanted), _units(wanted, levels))


def _units(skus: Iterable[str], levels: Iterable[model.Level]) -> dict[str, int]:
    """Units available per SKU over all warehouses (what a refusal tells the order service)."""
    units = dict.fromkeys(skus, 0)
    for level in levels:
        if level.sku in units:
            units[level.sku] += max(level.available, 0)
    return units


async def _reject(
    uow: InventoryUnitOfWork,
    deps: Deps,
    cmd: pb.ReserveStockCommand,
    reason: str,
    skus: Sequence[str],
    available: Mapping[str, int] | None = None,
) -> None:
    remembered = await uow.reservations.add_closed(
        id=new_id(),
        order_id=cmd.order_id,
        saga_id=cmd.saga_id,
        status=model.ReservationStatus.REJECTED,
        reason=reason,
        unavailable_skus=skus,
    )
    if not remembered:
        # The order was decided before (or concurrently, now committed): say that again.
        await _replay_prior(uow, deps, cmd)
        return
    rejected = _rejected(cmd.saga_id, cmd.order_id, reason, skus)
    rejected.available_units.update(available or {})
    _add(uow, deps, rejected)
    await uow.commit()
    deps.metrics.reservations.labels("rejected").inc()


async def _replay_prior(uow: InventoryUnitOfWork, deps: Deps, cmd: pb.ReserveStockCommand) -> None:
    existing = await uow.reservations.get(cmd.order_id)
    if existing is None:
        raise DuplicateDelivery(cmd.order_id)
    _add(uow, deps, _replay(existing, cmd.saga_id))
    await uow.commit()
    deps.metrics.reservations.labels("replayed").inc()


def _replay(existing: model.Reservation, saga_id: str) -> pb.StockReserved | pb.StockRejected:
    """The reply a repeated ReserveStockCommand gets, from what the first one decided."""
    status = existing.status
    if status is model.ReservationStatus.REJECTED:
        return _rejected(
            saga_id, existing.order_id, existing.reject_reason, existing.unavailable_skus
        )
    if status is model.ReservationStatus.EXPIRED:
        return _rejected(saga_id, existing.order_id, "reservation expired", ())
    if status is model.ReservationStatus.RELEASED:
        return _rejected(saga_id, existing.order_id, "reservation was released", ())
    return pb.StockReserved(
        saga_id=saga_id,
        order_id=existing.order_id,
        reservation_id=existing.id,
        allocations=[_allocation_pb(a) for a in existing.allocations],
        expires_at=_timestamp(existing.expires_at),
    )


def _rejected(saga_id: str, order_id: str, reason: str, skus: Sequence[str]) -> pb.StockRejected:
    return pb.StockRejected(
        saga_id=saga_id, order_id=order_id, reason=reason, unavailable_skus=list(skus)
    )


async def commit_reservation(
    cmd: pb.CommitReservationCommand, uow: InventoryUnitOfWork, *, deps: Deps
) -> None:
    """HELD -> COMMITTED: the hold stops expiring. A repeat replies again.

    A reservation that already expired cannot be committed: the reply is ReservationExpired
    again (the saga cancels the order on it). A missing or released one gets no reply. The
    usual case, a HELD reservation, takes one statement (`commit_held`).
    """
    if await uow.reservations.commit_held(cmd.order_id):
        _add(uow, deps, pb.ReservationCommitted(saga_id=cmd.saga_id, order_id=cmd.order_id))
        await uow.commit()
        return
    reservation = await uow.reservations.get_for_update(cmd.order_id)
    if reservation is None:
        _log.warning("commit for an order without reservation", order_id=cmd.order_id)
        await uow.commit()
        return
    try:
        changed = reservation.commit()
    except ReservationStateError:
        _log.warning(
            "commit of a reservation that holds nothing",
            order_id=cmd.order_id,
            status=reservation.status.value,
        )
        if reservation.status is model.ReservationStatus.EXPIRED:
            _add(
                uow,
                deps,
                pb.ReservationExpired(order_id=reservation.order_id, reservation_id=reservation.id),
            )
        await uow.commit()
        return
    if changed:
        await uow.reservations.save(reservation)
    _add(uow, deps, pb.ReservationCommitted(saga_id=cmd.saga_id, order_id=cmd.order_id))
    await uow.commit()


async def release_stock(
    cmd: pb.ReleaseStockCommand, uow: InventoryUnitOfWork, *, deps: Deps
) -> None:
    """Compensation: HELD/COMMITTED -> RELEASED, units back to available; always StockReleased.

    Releasing an order that was never reserved leaves a RELEASED marker, so a ReserveStock that
    arrives late (after the saga gave up on it) is rejected instead of holding stock.
    """
    reservation = await uow.reservations.get_for_update(cmd.order_id)
    if reservation is None:
        if cmd.order_id and not await uow.reservations.add_closed(
            id=new_id(),
            order_id=cmd.order_id,
            saga_id=cmd.saga_id,
            status=model.ReservationStatus.RELEASED,
            reason=cmd.reason or "released before stock was reserved",
        ):
            raise DuplicateDelivery(cmd.order_id)
    else:
        was_live = reservation.is_live
        returned = reservation.release()
        if was_live:
            await uow.stock.apply(
                [Delta(a.sku, a.warehouse, 0, -a.quantity, cmd.order_id) for a in returned],
                reason=f"release: {cmd.reason}" if cmd.reason else "release",
                actor=SAGA_ACTOR,
            )
            await uow.reservations.save(reservation)
            deps.metrics.released.inc()
    _add(uow, deps, pb.StockReleased(saga_id=cmd.saga_id, order_id=cmd.order_id))
    await uow.commit()


async def confirm_reservation(
    cmd: pb.ConfirmReservationCommand, uow: InventoryUnitOfWork, *, deps: Deps
) -> None:
    """A dispatch: the warehouse's allocated units leave on_hand and reserved, once."""
    reservation = await uow.reservations.get_for_update(cmd.order_id)
    if reservation is None or reservation.status is model.ReservationStatus.REJECTED:
        raise ReservationNotFound(cmd.order_id)
    try:
        leaving = reservation.confirm(cmd.warehouse, cmd.shipment_id)
    except ReservationStateError as exc:
        raise errors.InvalidTransition(
            f"reservation of order {cmd.order_id}", exc.current, exc.requested
        ) from exc
    except UnknownWarehouseForReservation as exc:
        raise errors.FailedPrecondition(str(exc)) from exc
    if leaving:
        await uow.stock.apply(
            [Delta(a.sku, a.warehouse, -a.quantity, -a.quantity, cmd.order_id) for a in leaving],
            reason=f"dispatch: shipment {cmd.shipment_id}",
            actor=SAGA_ACTOR,
        )
        await uow.reservations.save(reservation)
    _add(
        uow,
        deps,
        pb.ReservationConfirmed(
            order_id=cmd.order_id, shipment_id=cmd.shipment_id, warehouse=cmd.warehouse
        ),
    )
    await uow.commit()
    deps.metrics.units_dispatched.inc(sum(a.quantity for a in leaving))


async def expire_due(uow: InventoryUnitOfWork, *, deps: Deps) -> int:
    """Expire one batch of overdue holds; returns how many expired (0 when none are due)."""
    async with uow:
        due = await uow.reservations.expire_due(deps.settings.reservation_sweep_batch)
        if not due:
            return 0
        await uow.stock.apply(
            [
                Delta(a.sku, a.warehouse, 0, -a.quantity, r.order_id)
                for r in due
                for a in r.undispatched()
            ],
            reason="expire",
            actor=SWEEPER_ACTOR,
        )
        for reservation in due:
            _add(
                uow,
                deps,
                pb.ReservationExpired(order_id=reservation.order_id, reservation_id=reservation.id),
            )
        await uow.commit()
    deps.metrics.expired.inc(len(due))
    return len(due)


def _add(uow: InventoryUnitOfWork, deps: Deps, message: Message) -> None:
    uow.outbox.add(deps.topology.subject_for(message), message)


def _allocation_pb(allocation: model.Allocation) -> pb.Allocation:
    return pb.Allocation(
        sku=allocation.sku, warehouse=allocation.warehouse, quantity=allocation.quantity
    )


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
