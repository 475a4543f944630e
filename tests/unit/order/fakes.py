"""In-memory stand-ins for the order unit of work (unit tests only)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from surge_order.adapters.order_rows import HistoryRecord, ShipmentCounts, StepRecord
from surge_order.domain.model import Order, Saga


@dataclass
class FakeStore:
    orders: dict[str, Order] = field(default_factory=dict)
    sagas: dict[str, Saga] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[tuple[str, str | None, str, str]] = field(default_factory=list)
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[tuple[str, Message]] = field(default_factory=list)
    payments: set[tuple[str, str]] = field(default_factory=set)
    commits: int = 0

    def sent_types(self) -> list[str]:
        return [type(message).__name__ for _, message in self.sent]


class FakeRepository:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def find_existing(
        self, channel: str, client_order_id: str, external_id: str | None
    ) -> str | None:
        for order in self._store.orders.values():
            if order.channel == channel and (
                order.client_order_id == client_order_id
                or (external_id is not None and order.external_id == external_id)
            ):
                return order.id
        return None

    async def get(self, order_id: str) -> tuple[Order, Saga | None] | None:
        found = await self.lock(order_id)
        return found

    async def steps(self, saga_id: str) -> list[StepRecord]:
        return [
            StepRecord(
                s["step"],
                s["direction"],
                s["status"],
                s["attempts"],
                _T0,
                None,
                s.get("reason", ""),
            )
            for s in self._store.steps.values()
        ]

    async def history(self, order_id: str) -> list[HistoryRecord]:
        return [
            HistoryRecord(f, t, r, _T0) for oid, f, t, r in self._store.history if oid == order_id
        ]

    async def has_payment(self, order_id: str, reference: str) -> bool:
        return (order_id, reference) in self._store.payments

    async def add_payment(self, *, order: Order, reference: str, **_: Any) -> None:
        self._store.payments.add((order.id, reference))

    async def add(
        self, order: Order, saga: Saga, messages: Sequence[tuple[str, Message]] | None = None
    ) -> bool:
        if any(o.client_order_id == order.client_order_id for o in self._store.orders.values()):
            return False
        self._changes(order)
        self._store.orders[order.id] = copy.deepcopy(order)
        self._store.sagas[order.id] = copy.deepcopy(saga)
        if messages is not None:  # written (and committed) with the order itself
            self._store.sent.extend(messages)
        return True

    async def lock(self, order_id: str) -> tuple[Order, Saga] | None:
        if order_id not in self._store.orders:
            return None
        return copy.deepcopy(self._store.orders[order_id]), copy.deepcopy(
            self._store.sagas[order_id]
        )

    async def due(self, now: datetime, limit: int) -> list[tuple[Order, Saga]]:
        return [
            (copy.deepcopy(self._store.orders[oid]), copy.deepcopy(saga))
            for oid, saga in self._store.sagas.items()
            if saga.step_deadline is not None
            and saga.step_deadline <= now
            and saga.state.value in ("running", "compensating")
        ][:limit]

    async def save(self, order: Order, saga: Saga | None = None) -> None:
        self._changes(order)
        self._store.orders[order.id] = copy.deepcopy(order)
        if saga is not None:
            self._store.sagas[order.id] = copy.deepcopy(saga)

    def _changes(self, order: Order) -> None:
        for c in order.changes:
            from_status = c.from_status.value if c.from_status else None
            self._store.history.append((order.id, from_status, c.to_status.value, c.reason))
        order.changes.clear()

    def start_step(self, log_id: str, saga: Saga, at: datetime) -> None:
        assert saga.current_step is not None
        self._store.steps[log_id] = {
            "step": saga.current_step.value,
            "direction": saga.direction.value if saga.direction else "",
            "status": "started",
            "attempts": saga.step_attempts,
        }

    def finish_step(
        self, log_id: str, *, succeeded: bool, attempts: int, at: datetime, reason: str = ""
    ) -> None:
        self._store.steps[log_id].update(
            status="succeeded" if succeeded else "failed", attempts=attempts, reason=reason
        )

    def count_attempt(self, log_id: str, attempts: int) -> None:
        self._store.steps[log_id]["attempts"] = attempts

    async def add_shipments(self, order_id: str, shipments: list[tuple[str, str]]) -> None:
        for sid, warehouse in shipments:
            self._store.shipments.setdefault(
                sid,
                {
                    "order": order_id,
                    "warehouse": warehouse,
                    "dispatched": False,
                    "delivered": False,
                },
            )

    async def shipment_dispatched(
        self, order_id: str, shipment_id: str, warehouse: str, at: datetime
    ) -> None:
        self._store.shipments.setdefault(
            shipment_id, {"order": order_id, "warehouse": warehouse, "delivered": False}
        )["dispatched"] = True

    async def shipment_delivered(self, order_id: str, shipment_id: str, at: datetime) -> None:
        row = self._store.shipments.setdefault(shipment_id, {"order": order_id})
        row["dispatched"] = row["delivered"] = True

    async def shipment_counts(self, order_id: str) -> ShipmentCounts:
        rows = [r for r in self._store.shipments.values() if r["order"] == order_id]
        return ShipmentCounts(
            len(rows), sum(r["dispatched"] for r in rows), sum(r["delivered"] for r in rows)
        )


class FakePromotionRepository:
    """No promotions, tiers or limits; remembers which orders gave theirs back."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.released: list[str] = []

    async def context(self, customer_id: str, skus: Any, code: str, at: datetime) -> Any:
        from surge_order.adapters.promotions_repository import PricingContext

        return PricingContext("", {}, (), None, 0, {}, {})

    async def breakdown(self, order_id: str) -> tuple[Any, ...]:
        return ()

    async def release(self, order_id: str, at: datetime) -> None:
        self.released.append(order_id)


class FakeOutbox:
    def __init__(self) -> None:
        self.pending: list[tuple[str, Message]] = []

    def add(self, subject: str, message: Message, **_: Any) -> str:
        self.pending.append((subject, message))
        return str(len(self.pending))

    def take_pending(self) -> list[tuple[str, Message]]:
        taken, self.pending = self.pending, []
        return taken


_T0 = datetime(2026, 11, 11, tzinfo=UTC)


class FakeUnitOfWork:
    """Collects outgoing messages; only a commit sends them (a rollback drops them)."""

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.outbox.pending.clear()

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.orders = FakeRepository(store)
        self.promotions = FakePromotionRepository(store)
        self.outbox = FakeOutbox()
        self._after: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)

    async def commit(self) -> None:
        self._store.sent.extend(self.outbox.pending)
        self.outbox.pending.clear()
        self._store.commits += 1
        for callback in self._after:
            callback()
