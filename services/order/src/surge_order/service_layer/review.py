"""The review queue: list held orders, approve or reject them (audited), escalate the old ones.

A decision locks the order (like every saga message), records who decided, when and why on the
review row, moves the saga on (`Orchestrator.approve` / `cancel`) and announces `ReviewDecided`,
all in one transaction. Escalation claims rows with `UPDATE … WHERE escalated_at IS NULL … SKIP
LOCKED`, so with several replicas each old review is escalated exactly once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from surge.order.v1 import rules_pb2
from surge_platform import errors
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_order.adapters.rules_metrics import RulesMetrics
from surge_order.adapters.rules_repository import ReviewRecord
from surge_order.service_layer.saga import Orchestrator
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["ReviewDesk", "ReviewPage"]

UowFactory = Callable[[], OrderUnitOfWork]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_NOTE = 2000
STATUSES = ("pending", "approved", "rejected")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_log = get_logger("surge.order.review")
_audit = get_logger("surge.audit")


@dataclass(frozen=True)
class ReviewPage:
    reviews: list[ReviewRecord]
    next_page_token: str


def _ts(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


class ReviewDesk:
    def __init__(
        self,
        uows: UowFactory,
        orchestrator: Orchestrator,
        topology: Topology,
        metrics: RulesMetrics,
        escalation_seconds: float,
    ) -> None:
        self._uows = uows
        self._orchestrator = orchestrator
        self._topology = topology
        self._metrics = metrics
        self._escalation = timedelta(seconds=escalation_seconds)

    async def list(self, status: str, page_size: int, page_token: str) -> ReviewPage:
        if status not in STATUSES:
            raise errors.InvalidArgument("bad status", {"status": f"must be one of {STATUSES}"})
        if page_size < 0:
            raise errors.InvalidArgument("bad page size", {"page_size": "must not be negative"})
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _decode(page_token) if page_token else None
        async with self._uows() as uow:
            found = await uow.rules.queue(status, after, size + 1)
        if len(found) <= size:
            return ReviewPage(found, "")
        found = found[:size]
        return ReviewPage(found, _encode(found[-1]))

    async def approve(self, order_id: str, actor: str, note: str) -> ReviewRecord:
        return await self._decide(order_id, "approved", actor, note)

    async def reject(self, order_id: str, actor: str, note: str) -> ReviewRecord:
        if not note.strip():
            raise errors.InvalidArgument("a rejection needs a note", {"note": "is required"})
        return await self._decide(order_id, "rejected", actor, note)

    async def _decide(self, order_id: str, decision: str, actor: str, note: str) -> ReviewRecord:
        order_id = _order_id(order_id)
        if len(note) > MAX_NOTE:
            raise errors.InvalidArgument("note too long", {"note": f"at most {MAX_NOTE} chars"})
        actor = actor.strip() or "unknown"
        async with self._uows() as uow:
            locked = await uow.orders.lock(order_id)
            review = await uow.rules.review(order_id)
            if locked is None or review is None:
                raise errors.NotFound(f"order {order_id} is not in the review queue")
            if review.status != "pending":
                raise errors.FailedPrecondition(
                    f"order {order_id} was already {review.status} by {review.decided_by}"
                )
            order, saga = locked
            now = datetime.now(UTC)
            if decision == "approved":
                await self._orchestrator.approve(uow, order, saga, now)
            else:
                reason = f"review rejected: {note.strip()}"
                await self._orchestrator.cancel(uow, order, saga, reason, now)
            await self._orchestrator.save(uow, order, saga)
            await uow.rules.decide(order_id, decision, actor, note.strip(), now)
            event = rules_pb2.ReviewDecided(
                order_id=order_id,
                status=rules_pb2.REVIEW_STATUS_APPROVED
                if decision == "approved"
                else rules_pb2.REVIEW_STATUS_REJECTED,
                actor=actor,
                note=note.strip(),
                decided_at=_ts(now),
            )
            uow.outbox.add(self._topology.subject_for(event), event)
            uow.after_commit(self._metrics.review_decisions.labels(decision).inc)
            await uow.commit()
        _audit.info(
            "audit", actor=actor, action=f"review.{decision}", target=order_id, note=note.strip()
        )
        async with self._uows() as uow:
            decided = await uow.rules.review(order_id)
        assert decided is not None
        return decided

    async def escalate(self, limit: int = 100) -> int:
        """Escalate reviews pending longer than the threshold, once each; returns how many."""
        now = datetime.now(UTC)
        async with self._uows() as uow:
            due = await uow.rules.escalate_due(now - self._escalation, now, limit)
            for order_id, reasons, held_at in due:
                event = rules_pb2.ReviewEscalated(
                    order_id=order_id,
                    reasons=reasons,
                    held_at=_ts(held_at),
                    escalated_at=_ts(now),
                )
                uow.outbox.add(self._topology.subject_for(event), event)
            if due:
                count = len(due)
                uow.after_commit(lambda: self._metrics.reviews_escalated.inc(count))
                await uow.commit()
        for order_id, reasons, _ in due:
            _log.warning("review escalated", order_id=order_id, reasons=reasons)
        return len(due)

    def escalator(self, interval: float) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
        async def run(stop: asyncio.Event) -> None:
            while not stop.is_set():
                try:
                    await self.escalate()
                except Exception:
                    _log.exception("review escalation failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)

        return run


def _order_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.InvalidArgument("bad order id", {"order_id": "must be a UUID"}) from None


def _encode(last: ReviewRecord) -> str:
    micros = (last.held_at - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}:{last.order_id}".encode()).decode()


def _decode(token: str) -> tuple[datetime, str]:
    try:
        micros, order_id = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        return _EPOCH + timedelta(microseconds=int(micros)), str(uuid.UUID(order_id))
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise errors.InvalidArgument(
            "bad page token", {"page_token": "is not a token this service issued"}
        ) from None
