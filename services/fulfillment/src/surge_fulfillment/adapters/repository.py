"""SQLAlchemy Core queries for shipments, their audit log, carrier rules and order records.

All statements run on the unit of work's connection, inside its transaction; nothing here commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import raw_execute_many, raw_fetchrow
from surge_platform.errors import AlreadyExists

from surge_fulfillment.adapters.writes import ShipmentWrites, TrackingNumbers, read_ahead_of
from surge_fulfillment.domain.carriers import CarrierRule
from surge_fulfillment.domain.model import (
    Address,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    StatusChange,
)

__all__ = ["CarrierRepository", "OrderRecord", "OrderRepository", "ShipmentRepository"]

_COLUMNS = (
    "id, order_id, warehouse, carrier, tracking_number, status, lines, weight_grams, address, "
    "created_at, updated_at, dispatched_at, delivered_at"
)
_INSERT_SHIPMENT = text(
    f"INSERT INTO shipments ({_COLUMNS}) VALUES (:id, :order_id, :warehouse, :carrier, "
    ":tracking_number, :status, CAST(:lines AS jsonb), :weight_grams, CAST(:address AS jsonb), "
    ":created_at, :updated_at, :dispatched_at, :delivered_at)"
)
_UPDATE_SHIPMENT = text(
    "UPDATE shipments SET status = :status, carrier = :carrier, "
    "tracking_number = :tracking_number, updated_at = :updated_at, "
    "dispatched_at = :dispatched_at, delivered_at = :delivered_at WHERE id = :id"
)
_INSERT_CHANGE = text(
    "INSERT INTO shipment_events (shipment_id, from_status, to_status, actor, reason, at) "
    "VALUES (:shipment_id, :from_status, :to_status, :actor, :reason, :at)"
)
_GET = text(f"SELECT {_COLUMNS} FROM shipments WHERE id = :id")
_GET_FOR_UPDATE = text(f"SELECT {_COLUMNS} FROM shipments WHERE id = :id FOR UPDATE")
_FOR_ORDER = text(
    f"SELECT {_COLUMNS} FROM shipments WHERE order_id = :order_id ORDER BY created_at, id"
)
_FOR_ORDER_FOR_UPDATE = text(
    f"SELECT {_COLUMNS} FROM shipments WHERE order_id = :order_id ORDER BY created_at, id "
    "FOR UPDATE"
)
_HISTORY = text(
    "SELECT from_status, to_status, actor, at, reason FROM shipment_events "
    "WHERE shipment_id = :shipment_id ORDER BY id"
)
_NEXT_TRACKING = text(
    "SELECT tracking_prefix || lpad(nextval(CAST(tracking_sequence AS regclass))::text, 12, '0') "
    "FROM carriers WHERE code = :code"
)
_RULES = text(
    "SELECT priority, region, carrier, min_weight_grams, max_weight_grams "
    "FROM carrier_rules ORDER BY priority, id"
)
_REGIONS = text("SELECT code, region FROM warehouses")
_CARRIER_EXISTS = text("SELECT 1 FROM carriers WHERE code = :code")
_CLAIM_ORDER = text(
    "INSERT INTO fulfillment_orders (order_id, saga_id, status, reason) "
    "VALUES (:order_id, :saga_id, :status, :reason) ON CONFLICT (order_id) DO NOTHING RETURNING 1"
)
_GET_ORDER = text(
    "SELECT order_id, saga_id, status, reason FROM fulfillment_orders "
    "WHERE order_id = :order_id FOR UPDATE"
)
# Locks the order's record (creating a tombstone if shipments were never made), so a cancel and
# a late create for the same order never interleave.
_CANCEL_ORDER = text(
    "INSERT INTO fulfillment_orders (order_id, saga_id, status, reason) "
    "VALUES (:order_id, :saga_id, 'cancelled', :reason) "
    "ON CONFLICT (order_id) DO UPDATE SET updated_at = now(), status = CASE "
    "WHEN fulfillment_orders.status = 'created' THEN 'cancelled' "
    "ELSE fulfillment_orders.status END"
)


class ShipmentRepository:
    """`writes`: where `add()` puts new shipments to send at commit (the unit of work's
    `deferred(ShipmentWrites)`); every other statement sends them first. `tracking`: numbers
    taken a block at a time. Without them, each call runs its own statements."""

    def __init__(
        self,
        connection: AsyncConnection,
        writes: Callable[[], ShipmentWrites] | None = None,
        tracking: TrackingNumbers | None = None,
    ) -> None:
        self._connection = connection
        self._writes = writes
        self._tracking = tracking

    async def _settle(self) -> None:
        await _settle(self._writes)

    async def add(self, shipments: Sequence[Shipment]) -> None:
        if not shipments:
            return
        if self._writes is not None:
            self._writes().add(shipments)
            return
        await raw_execute_many(self._connection, _INSERT_SHIPMENT, [_row(s) for s in shipments])
        await self._record_changes(shipments)

    async def save(self, shipment: Shipment) -> None:
        """Write the shipment's new state and its pending audit rows."""
        await self._settle()
        try:
            await self._connection.execute(
                _UPDATE_SHIPMENT,
                {
                    "id": shipment.id,
                    "status": shipment.status.value,
                    "carrier": shipment.carrier,
                    "tracking_number": shipment.tracking_number,
                    "updated_at": shipment.updated_at,
                    "dispatched_at": shipment.dispatched_at,
                    "delivered_at": shipment.delivered_at,
                },
            )
        except IntegrityError as exc:
            # Only the tracking number is unique among the updated columns; the transaction is
            # aborted either way and the unit of work rolls it back.
            raise AlreadyExists(
                f"tracking number {shipment.tracking_number} belongs to another shipment"
            ) from exc
        await self._record_changes([shipment])

    async def get(self, shipment_id: str, *, for_update: bool = False) -> Shipment | None:
        if not _is_uuid(shipment_id):
            return None
        await self._settle()
        query = _GET_FOR_UPDATE if for_update else _GET
        row = (await self._connection.execute(query, {"id": shipment_id})).first()
        return _shipment(row) if row else None

    async def for_order(self, order_id: str, *, for_update: bool = False) -> list[Shipment]:
        await self._settle()
        query = _FOR_ORDER_FOR_UPDATE if for_update else _FOR_ORDER
        rows = (await self._connection.execute(query, {"order_id": order_id})).all()
        return [_shipment(row) for row in rows]

    async def history(self, shipment_id: str) -> list[StatusChange]:
        await self._settle()
        rows = (await self._connection.execute(_HISTORY, {"shipment_id": shipment_id})).all()
        return [
            StatusChange(
                ShipmentStatus(r.from_status) if r.from_status else None,
                ShipmentStatus(r.to_status),
                r.actor,
                r.at,
                r.reason,
            )
            for r in rows
        ]

    async def next_tracking_number(self, carrier: str) -> str:
        if self._tracking is not None:
            return await self._tracking.take(self._connection, carrier)
        row = await raw_fetchrow(self._connection, _NEXT_TRACKING, {"code": carrier})
        number = row[0] if row is not None else None
        if number is None:
            raise LookupError(f"carrier {carrier!r} is not in the carriers table")
        return str(number)

    async def _record_changes(self, shipments: Iterable[Shipment]) -> None:
        rows = [
            {
                "shipment_id": s.id,
                "from_status": c.from_status.value if c.from_status else None,
                "to_status": c.to_status.value,
                "actor": c.actor,
                "reason": c.reason,
                "at": c.at,
            }
            for s in shipments
            for c in s.changes
        ]
        if rows:
            await raw_execute_many(self._connection, _INSERT_CHANGE, rows)
        for s in shipments:
            s.changes.clear()


class CarrierRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def rules(self) -> list[CarrierRule]:
        rows = (await self._connection.execute(_RULES)).all()
        return [
            CarrierRule(r.priority, r.region, r.carrier, r.min_weight_grams, r.max_weight_grams)
            for r in rows
        ]

    async def all_warehouse_regions(self) -> dict[str, str]:
        rows = (await self._connection.execute(_REGIONS)).all()
        return {r.code: r.region for r in rows}

    async def exists(self, code: str) -> bool:
        return (await self._connection.execute(_CARRIER_EXISTS, {"code": code})).first() is not None


@dataclass(frozen=True)
class OrderRecord:
    """What fulfillment remembers about an order: the outcome of its first CreateShipments."""

    order_id: str
    saga_id: str
    status: str
    reason: str


class OrderRepository:
    """`writes`: as for `ShipmentRepository`; in a group commit, a claim the chunk's read-ahead
    proved new is sent with the batch's other writes (see `writes.py`)."""

    def __init__(
        self, connection: AsyncConnection, writes: Callable[[], ShipmentWrites] | None = None
    ) -> None:
        self._connection = connection
        self._writes = writes

    async def claim(self, order_id: str, saga_id: str, status: str, reason: str = "") -> bool:
        """Record the order's outcome; False if it already had one (this is a repeat)."""
        if self._writes is not None:
            found = read_ahead_of(self._connection)
            if found is not None and order_id in found.unclaimed:
                # Claimed once only: a repeat in the same batch takes the statement below,
                # after the pending claim is sent, and so finds it.
                found.unclaimed.discard(order_id)
                self._writes().claim(order_id, saga_id, status, reason)
                return True
            await _settle(self._writes)
        row = await raw_fetchrow(
            self._connection,
            _CLAIM_ORDER,
            {"order_id": order_id, "saga_id": saga_id, "status": status, "reason": reason},
        )
        return row is not None

    async def get(self, order_id: str) -> OrderRecord | None:
        await _settle(self._writes)
        row = (await self._connection.execute(_GET_ORDER, {"order_id": order_id})).first()
        return OrderRecord(row.order_id, row.saga_id, row.status, row.reason) if row else None

    async def cancel(self, order_id: str, saga_id: str, reason: str) -> None:
        await _settle(self._writes)
        await self._connection.execute(
            _CANCEL_ORDER, {"order_id": order_id, "saga_id": saga_id, "reason": reason}
        )


async def _settle(writes: Callable[[], ShipmentWrites] | None) -> None:
    """Send the transaction's deferred writes before a statement that might read around them."""
    if writes is not None:
        pending = writes()
        if pending.pending:
            await pending.flush()


def _row(shipment: Shipment) -> dict[str, Any]:
    address = shipment.address
    return {
        "id": shipment.id,
        "order_id": shipment.order_id,
        "warehouse": shipment.warehouse,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "status": shipment.status.value,
        "lines": json.dumps(
            [{"sku": line.sku, "quantity": line.quantity} for line in shipment.lines]
        ),
        "weight_grams": shipment.weight_grams,
        "address": json.dumps(
            {
                "province": address.province,
                "city": address.city,
                "district": address.district,
                "line1": address.line1,
                "postal_code": address.postal_code,
            }
        ),
        "created_at": shipment.created_at,
        "updated_at": shipment.updated_at,
        "dispatched_at": shipment.dispatched_at,
        "delivered_at": shipment.delivered_at,
    }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _shipment(row: Any) -> Shipment:
    lines = _json(row.lines)
    address = _json(row.address)
    return Shipment(
        id=str(row.id),
        order_id=row.order_id,
        warehouse=row.warehouse,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        status=ShipmentStatus(row.status),
        lines=tuple(ShipmentLine(line["sku"], int(line["quantity"])) for line in lines),
        weight_grams=row.weight_grams,
        address=Address(
            province=address["province"],
            city=address["city"],
            district=address["district"],
            line1=address["line1"],
            postal_code=address["postal_code"],
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
        dispatched_at=row.dispatched_at,
        delivered_at=row.delivered_at,
    )


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
