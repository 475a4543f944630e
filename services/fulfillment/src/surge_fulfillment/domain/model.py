"""The Shipment aggregate: one parcel from one warehouse for one order, and its state machine.

Every status change goes through `TRANSITIONS`; the aggregate records each change for the audit
log (`changes`) and each fact other contexts must learn about (`events`). Dispatch from CREATED or
PICKED walks the skipped scanning steps, so the audit log always shows the full path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from surge_platform.errors import FailedPrecondition, InvalidArgument, InvalidTransition

from surge_fulfillment.domain import events


class ShipmentStatus(StrEnum):
    CREATED = "created"
    PICKED = "picked"
    PACKED = "packed"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


S = ShipmentStatus

# The only transitions a shipment may make. Cancellation is possible only before dispatch.
TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    S.CREATED: frozenset({S.PICKED, S.CANCELLED}),
    S.PICKED: frozenset({S.PACKED, S.CANCELLED}),
    S.PACKED: frozenset({S.DISPATCHED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

# The warehouse scanning steps, in order; dispatch fills in the ones a warehouse skipped.
_FORWARD_PATH = (S.CREATED, S.PICKED, S.PACKED, S.DISPATCHED)


def can_transition(current: ShipmentStatus, requested: ShipmentStatus) -> bool:
    return requested in TRANSITIONS[current]


@dataclass(frozen=True)
class ShipmentLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Address:
    province: str
    city: str
    district: str
    line1: str
    postal_code: str


@dataclass(frozen=True)
class StatusChange:
    """One row of the audit log; `from_status` is None for creation."""

    from_status: ShipmentStatus | None
    to_status: ShipmentStatus
    actor: str
    at: datetime
    reason: str = ""


@dataclass(eq=False)
class Shipment:
    id: str
    order_id: str
    warehouse: str
    carrier: str
    tracking_number: str
    lines: tuple[ShipmentLine, ...]
    weight_grams: int
    address: Address
    created_at: datetime
    updated_at: datetime
    status: ShipmentStatus = ShipmentStatus.CREATED
    dispatched_at: datetime | None = None
    delivered_at: datetime | None = None
    changes: list[StatusChange] = field(default_factory=list, repr=False)
    events: list[events.Event] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls,
        *,
        id: str,
        order_id: str,
        warehouse: str,
        carrier: str,
        tracking_number: str,
        lines: tuple[ShipmentLine, ...],
        weight_grams: int,
        address: Address,
        actor: str,
        at: datetime,
    ) -> Shipment:
        shipment = cls(
            id=id,
            order_id=order_id,
            warehouse=warehouse,
            carrier=carrier,
            tracking_number=tracking_number,
            lines=lines,
            weight_grams=weight_grams,
            address=address,
            created_at=at,
            updated_at=at,
        )
        shipment.changes.append(StatusChange(None, S.CREATED, actor, at))
        return shipment

    @property
    def cancellable(self) -> bool:
        return can_transition(self.status, S.CANCELLED)

    def _move(self, to: ShipmentStatus, actor: str, at: datetime, reason: str = "") -> None:
        if not can_transition(self.status, to):
            raise InvalidTransition(f"shipment {self.id}", self.status, to)
        self.changes.append(StatusChange(self.status, to, actor, at, reason))
        self.status = to
        self.updated_at = at

    def pick(self, actor: str, at: datetime) -> None:
        self._move(S.PICKED, actor, at)

    def pack(self, actor: str, at: datetime) -> None:
        self._move(S.PACKED, actor, at)

    def dispatch(
        self,
        actor: str,
        at: datetime,
        *,
        carrier: str = "",
        tracking_number: str = "",
    ) -> bool:
        """Hand the parcel to the carrier; False if it already was (nothing changes then).

        `carrier`/`tracking_number` override what was assigned at creation (a warehouse that
        printed another label). Re-dispatching with a different tracking number is refused.
        """
        if self.status is S.DISPATCHED:
            if tracking_number and tracking_number != self.tracking_number:
                raise FailedPrecondition(
                    f"shipment {self.id} was already dispatched with tracking number "
                    f"{self.tracking_number}"
                )
            return False
        if self.status not in _FORWARD_PATH:
            raise InvalidTransition(f"shipment {self.id}", self.status, S.DISPATCHED)
        for step in _FORWARD_PATH[_FORWARD_PATH.index(self.status) + 1 :]:
            self._move(step, actor, at)
        if carrier:
            self.carrier = carrier
        if tracking_number:
            self.tracking_number = tracking_number
        self.dispatched_at = at
        self.events.append(
            events.ShipmentDispatched(
                shipment_id=self.id,
                order_id=self.order_id,
                warehouse=self.warehouse,
                carrier=self.carrier,
                tracking_number=self.tracking_number,
                lines=self.lines,
                dispatched_at=at,
            )
        )
        return True

    def deliver(self, actor: str, at: datetime) -> bool:
        """Record delivery; False if it already was delivered (nothing changes then)."""
        if self.status is S.DELIVERED:
            return False
        if self.status is S.DISPATCHED and self.dispatched_at and at < self.dispatched_at:
            raise InvalidArgument(
                "delivery cannot precede dispatch",
                {"delivered_at": "is before the shipment was dispatched"},
            )
        self._move(S.DELIVERED, actor, at)
        self.delivered_at = at
        self.events.append(events.ShipmentDelivered(self.id, self.order_id, at))
        return True

    def cancel(self, actor: str, at: datetime, reason: str = "") -> bool:
        """Cancel before dispatch; False if it already was cancelled (nothing changes then)."""
        if self.status is S.CANCELLED:
            return False
        self._move(S.CANCELLED, actor, at, reason)
        return True
