"""The order and its saga as the service layer holds them for one unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from surge_order.domain.order import Address, Customer, PaymentTerms, PricedLine
from surge_order.domain.saga import Direction, SagaState, Step
from surge_order.domain.status import OrderStatus, can_transition

__all__ = ["Allocation", "Order", "Saga", "StatusChange", "TransitionNotAllowed"]


class TransitionNotAllowed(Exception):
    def __init__(self, order_id: str, current: OrderStatus, requested: OrderStatus) -> None:
        super().__init__(f"order {order_id} cannot go from {current} to {requested}")
        self.order_id = order_id
        self.current = current
        self.requested = requested


@dataclass(frozen=True)
class StatusChange:
    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str
    at: datetime
    version: int


@dataclass(frozen=True)
class Allocation:
    sku: str
    warehouse: str
    quantity: int


@dataclass(eq=False)
class Order:
    id: str
    client_order_id: str
    channel: str
    external_id: str | None
    customer: Customer
    address: Address
    lines: tuple[PricedLine, ...]
    currency: str
    subtotal_minor: int
    discount_minor: int
    total_minor: int
    payment_terms: PaymentTerms
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    tags: tuple[str, ...] = ()
    coupon_code: str = ""
    cancel_reason: str = ""
    paid: bool = False
    version: int = 1
    changes: list[StatusChange] = field(default_factory=list, repr=False)

    def change_status(self, to: OrderStatus, reason: str, at: datetime) -> StatusChange:
        if not can_transition(self.status, to):
            raise TransitionNotAllowed(self.id, self.status, to)
        change = StatusChange(self.status, to, reason, at, self.version + 1)
        self.status = to
        self.version += 1
        self.updated_at = at
        if to is OrderStatus.CANCELLED:
            self.cancel_reason = reason
        self.changes.append(change)
        return change

    def touch(self, at: datetime) -> None:
        """A change other than status (payment recorded): bumps the version."""
        self.version += 1
        self.updated_at = at

    @property
    def weight_per_unit(self) -> dict[str, int]:
        return {line.sku: line.weight_grams for line in self.lines}


@dataclass(eq=False)
class Saga:
    id: str
    order_id: str
    state: SagaState
    started_at: datetime
    updated_at: datetime
    current_step: Step | None = None
    direction: Direction | None = None
    step_log_id: str | None = None
    step_started_at: datetime | None = None
    step_deadline: datetime | None = None
    step_attempts: int = 0
    progress: int = 0
    plan: list[Step] = field(default_factory=list)
    failure_reason: str = ""
    allocations: tuple[Allocation, ...] = ()

    def is_waiting_for(self, step: Step) -> bool:
        """True when a reply for `step` is the one this saga expects now."""
        if self.current_step is not step:
            return False
        if self.direction is Direction.FORWARD:
            return self.state is SagaState.RUNNING
        # A parked compensation that finally succeeds is still welcome.
        return self.state in (SagaState.COMPENSATING, SagaState.COMPENSATION_FAILED)
