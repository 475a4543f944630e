"""CreateShipments' writes, sent with one statement per transaction, and its read-ahead.

In a group commit (`surge_platform.db`), `read_chunk` reads with one statement which orders of
the chunk's CreateShipments already have a record. A handler whose order had none records its
claim, shipments and audit rows here (`ShipmentWrites`, the unit of work's `deferred`), and the
batch writes them all with one statement before it commits. The claim is a plain INSERT: if a
concurrent transaction recorded the same order meanwhile, the statement fails, the batch rolls
back and the consumer replays its messages one by one, where each claim is decided by its own
`INSERT ... ON CONFLICT` as before. Inside the transaction, every other statement on orders or
shipments first sends what is pending (`OrderRepository`/`ShipmentRepository` do), so nothing
reads around a deferred write.

Tracking numbers come from the carrier's sequence a block at a time (`TrackingNumbers`): still
unique (a sequence never hands a value out twice), one round trip per block instead of per
shipment. Like any sequence value, a number taken by a rolled-back transaction is never used.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge.fulfillment.v1 import fulfillment_pb2 as pb
from surge_platform.db import BatchTransaction, prefetched, raw_execute, raw_fetch

from surge_fulfillment.domain.model import Shipment

__all__ = ["ReadAhead", "ShipmentWrites", "TrackingNumbers", "read_ahead_of", "read_chunk"]

_KEY = "surge_fulfillment.read_ahead"

_CLAIMED = text(
    "SELECT order_id FROM fulfillment_orders WHERE order_id = ANY(CAST(:order_ids AS text[]))"
)

# Claims, then shipments, then their audit rows (the foreign keys are checked at the end of the
# statement, when every row exists).
_WRITE = text(
    """
    WITH claimed AS (
        INSERT INTO fulfillment_orders (order_id, saga_id, status, reason)
        SELECT * FROM unnest(CAST(:c_order AS text[]), CAST(:c_saga AS text[]),
                             CAST(:c_status AS text[]), CAST(:c_reason AS text[]))
    ),
    shipped AS (
        INSERT INTO shipments (id, order_id, warehouse, carrier, tracking_number, status, lines,
                               weight_grams, address, created_at, updated_at, dispatched_at,
                               delivered_at)
        SELECT CAST(id AS uuid), order_id, warehouse, carrier, tracking_number, status,
               CAST(lines AS jsonb), weight_grams, CAST(address AS jsonb), created_at,
               updated_at, dispatched_at, delivered_at
        FROM unnest(CAST(:s_id AS text[]), CAST(:s_order AS text[]),
                    CAST(:s_warehouse AS text[]), CAST(:s_carrier AS text[]),
                    CAST(:s_tracking AS text[]), CAST(:s_status AS text[]),
                    CAST(:s_lines AS text[]), CAST(:s_weight AS integer[]),
                    CAST(:s_address AS text[]), CAST(:s_created AS timestamptz[]),
                    CAST(:s_updated AS timestamptz[]), CAST(:s_dispatched AS timestamptz[]),
                    CAST(:s_delivered AS timestamptz[]))
             AS s(id, order_id, warehouse, carrier, tracking_number, status, lines,
                  weight_grams, address, created_at, updated_at, dispatched_at, delivered_at)
    )
    INSERT INTO shipment_events (shipment_id, from_status, to_status, actor, reason, at)
    SELECT CAST(shipment_id AS uuid), from_status, to_status, actor, reason, at
    FROM unnest(CAST(:e_shipment AS text[]), CAST(:e_from AS text[]), CAST(:e_to AS text[]),
                CAST(:e_actor AS text[]), CAST(:e_reason AS text[]),
                CAST(:e_at AS timestamptz[]))
         AS e(shipment_id, from_status, to_status, actor, reason, at)
    """
)

_TRACKING_BLOCK = text(
    "SELECT c.tracking_prefix || lpad(nextval(CAST(c.tracking_sequence AS regclass))::text, 12, "
    "'0') FROM carriers c CROSS JOIN generate_series(1, :count) WHERE c.code = :code"
)


@dataclass
class ReadAhead:
    # Orders of the chunk's CreateShipments that had no record when the chunk began.
    unclaimed: set[str]


def read_ahead_of(connection: AsyncConnection) -> ReadAhead | None:
    """The read-ahead of the group commit running on `connection`, if any."""
    found = prefetched(connection, _KEY)
    return found if isinstance(found, ReadAhead) else None


async def read_chunk(batch: BatchTransaction, messages: Sequence[Any]) -> None:
    """The group-commit hook (`surge_platform.db.on_chunk`): see the module docstring."""
    order_ids = sorted(
        {m.order_id for m in messages if isinstance(m, pb.CreateShipmentsCommand) and m.order_id}
    )
    if not order_ids:
        return
    rows = await raw_fetch(batch.connection, _CLAIMED, {"order_ids": order_ids})
    batch.prefetched[_KEY] = ReadAhead(set(order_ids) - {row.order_id for row in rows})


class ShipmentWrites:
    """The claims, new shipments and audit rows of one transaction, not yet sent."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._claims: list[tuple[str, str, str, str]] = []
        self._shipments: list[Shipment] = []

    @property
    def pending(self) -> bool:
        return bool(self._claims or self._shipments)

    def claims(self, order_id: str) -> bool:
        return any(claim[0] == order_id for claim in self._claims)

    def claim(self, order_id: str, saga_id: str, status: str, reason: str) -> None:
        self._claims.append((order_id, saga_id, status, reason))

    def add(self, shipments: Sequence[Shipment]) -> None:
        self._shipments.extend(shipments)

    async def flush(self) -> None:
        if not self.pending:
            return
        claims, shipments = self._claims, self._shipments
        self._claims, self._shipments = [], []
        changes = [(s, c) for s in shipments for c in s.changes]
        await raw_execute(
            self._connection,
            _WRITE,
            {
                "c_order": [c[0] for c in claims],
                "c_saga": [c[1] for c in claims],
                "c_status": [c[2] for c in claims],
                "c_reason": [c[3] for c in claims],
                "s_id": [s.id for s in shipments],
                "s_order": [s.order_id for s in shipments],
                "s_warehouse": [s.warehouse for s in shipments],
                "s_carrier": [s.carrier for s in shipments],
                "s_tracking": [s.tracking_number for s in shipments],
                "s_status": [s.status.value for s in shipments],
                "s_lines": [_lines_json(s) for s in shipments],
                "s_weight": [s.weight_grams for s in shipments],
                "s_address": [_address_json(s) for s in shipments],
                "s_created": [s.created_at for s in shipments],
                "s_updated": [s.updated_at for s in shipments],
                "s_dispatched": [s.dispatched_at for s in shipments],
                "s_delivered": [s.delivered_at for s in shipments],
                "e_shipment": [s.id for s, _ in changes],
                "e_from": [c.from_status.value if c.from_status else None for _, c in changes],
                "e_to": [c.to_status.value for _, c in changes],
                "e_actor": [c.actor for _, c in changes],
                "e_reason": [c.reason for _, c in changes],
                "e_at": [c.at for _, c in changes],
            },
        )
        for shipment in shipments:
            shipment.changes.clear()


class TrackingNumbers:
    """Per-carrier tracking numbers taken from the carrier's sequence `block` at a time; one
    per process, shared by its units of work."""

    def __init__(self, block: int = 64) -> None:
        self._block = block
        self._free: dict[str, deque[str]] = {}

    async def take(self, connection: AsyncConnection, carrier: str) -> str:
        free = self._free.setdefault(carrier, deque())
        if not free:
            rows = await raw_fetch(
                connection, _TRACKING_BLOCK, {"code": carrier, "count": self._block}
            )
            if not rows:
                raise LookupError(f"carrier {carrier!r} is not in the carriers table")
            free.extend(str(row[0]) for row in rows)
        return free.popleft()


def _lines_json(shipment: Shipment) -> str:
    return json.dumps([{"sku": line.sku, "quantity": line.quantity} for line in shipment.lines])


def _address_json(shipment: Shipment) -> str:
    address = shipment.address
    return json.dumps(
        {
            "province": address.province,
            "city": address.city,
            "district": address.district,
            "line1": address.line1,
            "postal_code": address.postal_code,
        }
    )
