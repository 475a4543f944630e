"""Rows of the order tables as the service's types: the records its read side returns, and
the mapping between `Order`/`Saga` and their columns (used by every order statement)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from surge_order.domain.model import Allocation, Order, Saga
from surge_order.domain.order import Address, Customer, PaymentTerms, PricedLine
from surge_order.domain.saga import Direction, SagaState, Step
from surge_order.domain.status import OrderStatus

__all__ = [
    "HistoryRecord",
    "OrderFilter",
    "ShipmentCounts",
    "StepRecord",
    "order_from_row",
    "order_params",
    "prefixed",
    "saga_from_row",
    "saga_params",
]


@dataclass(frozen=True)
class StepRecord:
    step: str
    direction: str
    status: str
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    failure_reason: str


@dataclass(frozen=True)
class HistoryRecord:
    from_status: str | None
    to_status: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    channel: str = ""
    customer_id: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class ShipmentCounts:
    total: int
    dispatched: int
    delivered: int


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def prefixed(prefix: str, params: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{key}": value for key, value in params.items()}


def order_params(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "channel": order.channel,
        "external_id": order.external_id,
        "customer_id": order.customer.id,
        "customer_name": order.customer.name,
        "customer_phone": order.customer.phone,
        "province": order.address.province,
        "city": order.address.city,
        "district": order.address.district,
        "line1": order.address.line1,
        "postal_code": order.address.postal_code,
        "lines": json.dumps(
            [
                [
                    ln.sku,
                    ln.name,
                    ln.quantity,
                    ln.unit_price_minor,
                    ln.discount_minor,
                    ln.total_minor,
                    ln.weight_grams,
                ]
                for ln in order.lines
            ]
        ),
        "currency": order.currency,
        "subtotal_minor": order.subtotal_minor,
        "discount_minor": order.discount_minor,
        "total_minor": order.total_minor,
        "payment_terms": order.payment_terms.value,
        "status": order.status.value,
        "tags": list(order.tags),
        "coupon_code": order.coupon_code,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "version": order.version,
    }


def saga_params(saga: Saga) -> dict[str, Any]:
    return {
        "id": saga.id,
        "order_id": saga.order_id,
        "state": saga.state.value,
        "current_step": saga.current_step.value if saga.current_step else "",
        "direction": saga.direction.value if saga.direction else "",
        "step_log_id": saga.step_log_id,
        "step_started_at": saga.step_started_at,
        "step_deadline": saga.step_deadline,
        "step_attempts": saga.step_attempts,
        "progress": saga.progress,
        "plan": [step.value for step in saga.plan],
        "failure_reason": saga.failure_reason,
        "allocations": json.dumps([[a.sku, a.warehouse, a.quantity] for a in saga.allocations]),
        "started_at": saga.started_at,
        "updated_at": saga.updated_at,
    }


def order_from_row(row: Any) -> Order:
    return Order(
        id=str(row.id),
        client_order_id=row.client_order_id,
        channel=row.channel,
        external_id=row.external_id,
        customer=Customer(row.customer_id, row.customer_name, row.customer_phone),
        address=Address(row.province, row.city, row.district, row.line1, row.postal_code),
        lines=tuple(PricedLine(*line) for line in _json(row.lines)),
        currency=row.currency,
        subtotal_minor=row.subtotal_minor,
        discount_minor=row.discount_minor,
        total_minor=row.total_minor,
        payment_terms=PaymentTerms(row.payment_terms),
        status=OrderStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        tags=tuple(row.tags),
        coupon_code=row.coupon_code,
        cancel_reason=row.cancel_reason,
        paid=row.paid,
        version=row.version,
    )


def saga_from_row(row: Any) -> Saga:
    return Saga(
        id=str(row.saga_id),
        order_id=str(row.id),
        state=SagaState(row.state),
        started_at=row.saga_started_at,
        updated_at=row.saga_updated_at,
        current_step=Step(row.current_step) if row.current_step else None,
        direction=Direction(row.direction) if row.direction else None,
        step_log_id=str(row.step_log_id) if row.step_log_id else None,
        step_started_at=row.step_started_at,
        step_deadline=row.step_deadline,
        step_attempts=row.step_attempts,
        progress=row.progress,
        plan=[Step(step) for step in row.plan],
        failure_reason=row.failure_reason,
        allocations=tuple(Allocation(*a) for a in _json(row.allocations)),
    )
