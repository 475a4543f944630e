"""Returns (RMA) and their saga, in one place: request, decide, receive, the replies, the sweeper.

    approve ─(goods received)─> inventory.restock_return ─> ReturnRestocked
    ─> billing.issue_credit_note ─> CreditNoteIssued ─> return refunded, order
    partially_refunded | refunded. A refund-only return goes from approval straight to the
    credit note. CreditNoteRejected compensates: inventory.reverse_restock ─> RestockReversed
    ─> return failed.

Rules every handler follows (as in the order saga):
- lock the order, then the return (always in that order; `ReturnRepository` docstring);
- act only on the reply of the step the return waits for now: stale or repeated replies are
  ignored, and participants are idempotent on the return id, so a resent step is harmless;
- order status changes go through the transition table and are announced through the outbox
  in the same transaction (`Orchestrator.save`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from surge.billing.v1 import credit_notes_pb2
from surge.inventory.v1 import returns_pb2 as inventory_returns_pb2
from surge_platform import errors
from surge_platform.ids import new_id
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_order.adapters.returns_metrics import ReturnMetrics
from surge_order.domain.model import Order, Saga
from surge_order.domain.returns import (
    LIVE,
    Return,
    ReturnKind,
    ReturnState,
    ReturnStep,
    allocate_restock,
)
from surge_order.domain.saga import backoff_seconds
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import returns_checks as checks
from surge_order.service_layer import returns_messages as messages
from surge_order.service_layer.saga import Orchestrator
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["ReturnPolicy", "ReturnView", "Returns"]

_log = get_logger("surge.order.returns")
UowFactory = Callable[[], OrderUnitOfWork]
# A return in these states still has a refund coming (or a decision to make).
_PENDING = frozenset({ReturnState.REQUESTED, ReturnState.APPROVED, ReturnState.RECEIVED})


@dataclass(frozen=True)
class ReturnPolicy:
    window: timedelta = timedelta(days=7)
    escalation: timedelta = timedelta(days=1)
    step_deadline_seconds: float = 15.0
    step_backoff_max_seconds: float = 120.0
    sweep_batch: int = 200


@dataclass(frozen=True)
class ReturnView:
    ret: Return
    steps: list[tuple[str, str, datetime]]


def _now() -> datetime:
    return datetime.now(UTC)


def _uuid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.InvalidArgument(f"bad {name}", {name: "must be a UUID"}) from None


class Returns:
    def __init__(
        self,
        topology: Topology,
        orchestrator: Orchestrator,
        metrics: ReturnMetrics,
        policy: ReturnPolicy,
    ) -> None:
        self._topology = topology
        self._orchestrator = orchestrator
        self._metrics = metrics
        self._policy = policy

    # ----------------------------------------------------------------------- requests (rpc)

    async def request(
        self,
        uows: UowFactory,
        *,
        order_id: str,
        kind: ReturnKind | None,
        reason: str,
        lines: Sequence[tuple[str, int]],
        actor: str,
    ) -> Return:
        problems: dict[str, str] = {}
        if kind is None:
            problems["kind"] = "must be RETURN or REFUND_ONLY"
        if not reason.strip():
            problems["reason"] = "is required"
        if problems:
            raise errors.InvalidArgument("the return is not valid", problems)
        assert kind is not None
        async with uows() as uow:
            order, saga = await self._lock_order(uow, _uuid(order_id, "order_id"))
            now = _now()
            await checks.check_returnable(uow, order, kind, self._policy.window, now)
            earlier = await uow.returns.of_order(order.id)
            priced = await checks.price(uow, order, earlier, lines)
            ret = Return(
                id=new_id(),
                order_id=order.id,
                customer_id=order.customer.id,
                kind=kind,
                state=ReturnState.REQUESTED,
                reason=reason.strip(),
                currency=order.currency,
                lines=priced,
                requested_by=actor or "unknown",
                requested_at=now,
                updated_at=now,
            )
            if order.status is not OrderStatus.REFUND_REQUESTED:
                order.change_status(OrderStatus.REFUND_REQUESTED, f"return {ret.id} requested", now)
            await uow.returns.save(ret)
            await self._orchestrator.save(uow, order, saga)
            uow.after_commit(self._metrics.requested.labels(kind.value).inc)
            await uow.commit()
        _log.info("return requested", return_id=ret.id, order_id=order.id, kind=kind.value)
        return ret

    async def approve(self, uows: UowFactory, return_id: str, actor: str, note: str) -> Return:
        async with uows() as uow:
            order, saga, ret = await self._lock(uow, return_id)
            now = _now()
            ret.approve(actor, note, now)
            if ret.kind is ReturnKind.REFUND_ONLY:
                await self._credit(uow, order, ret, now)
            await self._save(uow, order, saga, ret)
            await uow.commit()
        return ret

    async def reject(self, uows: UowFactory, return_id: str, actor: str, note: str) -> Return:
        async with uows() as uow:
            order, saga, ret = await self._lock(uow, return_id)
            now = _now()
            ret.reject(actor, note, now)
            await self._settle_order(uow, order, ret, now)
            await self._save(uow, order, saga, ret)
            await uow.commit()
        return ret

    async def receive(
        self, uows: UowFactory, return_id: str, actor: str, inspected: Mapping[str, tuple[int, int]]
    ) -> Return:
        async with uows() as uow:
            order, saga, ret = await self._lock(uow, return_id)
            now = _now()
            ret.receive(inspected, now)
            resellable = {ln.sku: ln.resellable for ln in ret.lines if ln.resellable}
            if resellable:
                others = await uow.returns.of_order(order.id)
                before = [
                    r for o in others if o.id != ret.id and o.state in LIVE for r in o.restock
                ]
                allocations = [(a.sku, a.warehouse, a.quantity) for a in saga.allocations]
                ret.restock = allocate_restock(allocations, before, resellable)
                self._begin(uow, ret, ReturnStep.RESTOCK, now)
            else:
                await self._credit(uow, order, ret, now)
            _log.info("return received", return_id=ret.id, actor=actor, restock=ret.restock)
            await self._save(uow, order, saga, ret)
            await uow.commit()
        return ret

    async def get(self, uows: UowFactory, return_id: str) -> ReturnView:
        async with uows() as uow:
            ret = await uow.returns.get(_uuid(return_id, "return_id"))
            if ret is None:
                raise errors.NotFound(f"return {return_id} does not exist")
            return ReturnView(ret, await uow.returns.steps(ret.id))

    async def of_order(self, uows: UowFactory, order_id: str) -> list[Return]:
        async with uows() as uow:
            order_id = _uuid(order_id, "order_id")
            if await uow.orders.get(order_id) is None:
                raise errors.NotFound(f"order {order_id} does not exist")
            return await uow.returns.of_order(order_id)

    # ------------------------------------------------------------ replies (through idempotent)

    async def on_restocked(
        self, msg: inventory_returns_pb2.ReturnRestocked, uow: OrderUnitOfWork
    ) -> None:
        found = await self._expecting(uow, msg.return_id, ReturnStep.RESTOCK)
        if found is None:
            return
        order, saga, ret, now = found
        self._finish(ret, "succeeded")
        await self._credit(uow, order, ret, now)
        await self._save(uow, order, saga, ret)
        await uow.commit()

    async def on_credit_note_issued(
        self, msg: credit_notes_pb2.CreditNoteIssued, uow: OrderUnitOfWork
    ) -> None:
        found = await self._expecting(uow, msg.return_id, ReturnStep.CREDIT)
        if found is None:
            return
        order, saga, ret, now = found
        self._finish(ret, f"succeeded: {msg.credit_note.number}")
        ret.refunded(msg.credit_note.id, msg.credit_note.number, now)
        await self._settle_order(uow, order, ret, now)
        await self._save(uow, order, saga, ret)
        currency, amount = ret.currency, msg.refund.amount.amount_minor
        uow.after_commit(lambda: self._metrics.refunded_minor.labels(currency).inc(amount))
        await uow.commit()

    async def on_credit_note_rejected(
        self, msg: credit_notes_pb2.CreditNoteRejected, uow: OrderUnitOfWork
    ) -> None:
        found = await self._expecting(uow, msg.return_id, ReturnStep.CREDIT)
        if found is None:
            return
        order, saga, ret, now = found
        self._finish(ret, f"failed: {msg.reason}")
        ret.failure_reason = f"credit note refused: {msg.reason}"
        if ret.restock:
            self._begin(uow, ret, ReturnStep.REVERSE_RESTOCK, now)
        else:
            ret.failed(ret.failure_reason, now)
            await self._settle_order(uow, order, ret, now)
        _log.warning("return refund refused", return_id=ret.id, reason=msg.reason)
        await self._save(uow, order, saga, ret)
        await uow.commit()

    async def on_restock_reversed(
        self, msg: inventory_returns_pb2.RestockReversed, uow: OrderUnitOfWork
    ) -> None:
        found = await self._expecting(uow, msg.return_id, ReturnStep.REVERSE_RESTOCK)
        if found is None:
            return
        order, saga, ret, now = found
        short = ", ".join(f"{s.quantity} {s.sku}@{s.warehouse}" for s in msg.shortfall)
        self._finish(ret, f"succeeded; short: {short}" if short else "succeeded")
        ret.failed(ret.failure_reason or "refund refused", now)
        await self._settle_order(uow, order, ret, now)
        await self._save(uow, order, saga, ret)
        await uow.commit()

    # ---------------------------------------------------------------------------- sweeper

    async def sweep(self, uow: OrderUnitOfWork) -> int:
        """Resend steps past their deadline and escalate refund requests left unhandled; each
        row is claimed with SKIP LOCKED (or stamped in one UPDATE), so replicas never double up."""
        now = _now()
        due = await uow.returns.due(now, self._policy.sweep_batch)
        for ret in due:
            assert ret.step is not None
            ret.step_attempts += 1
            ret.step_deadline = now + timedelta(
                seconds=backoff_seconds(
                    self._policy.step_deadline_seconds,
                    ret.step_attempts,
                    self._policy.step_backoff_max_seconds,
                )
            )
            ret.updated_at = now
            ret.log.append((ret.step, f"resent (attempt {ret.step_attempts})"))
            self._send(uow, ret)
            uow.after_commit(self._metrics.step_resends.labels(ret.step.value).inc)
            await uow.returns.save(ret)
        cutoff = now - self._policy.escalation
        escalated = await uow.returns.escalate(now, cutoff, self._policy.sweep_batch)
        for row in escalated:
            state = ReturnState(row.state)
            event = messages.escalated(str(row.id), str(row.order_id), state, row.requested_at)
            uow.outbox.add(self._topology.subject_for(event), event)
            uow.after_commit(self._metrics.escalations.inc)
            _log.warning(
                "refund request escalated",
                return_id=str(row.id),
                order_id=str(row.order_id),
                state=state.value,
            )
        await uow.commit()
        return len(due) + len(escalated)

    # ---------------------------------------------------------------------------- internals

    async def _lock_order(self, uow: OrderUnitOfWork, order_id: str) -> tuple[Order, Saga]:
        locked = await uow.orders.lock(order_id)
        if locked is None:
            raise errors.NotFound(f"order {order_id} does not exist")
        return locked

    async def _lock(self, uow: OrderUnitOfWork, return_id: str) -> tuple[Order, Saga, Return]:
        return_id = _uuid(return_id, "return_id")
        order_id = await uow.returns.order_of(return_id)
        if order_id is None:
            raise errors.NotFound(f"return {return_id} does not exist")
        order, saga = await self._lock_order(uow, order_id)
        ret = await uow.returns.lock(return_id)
        assert ret is not None  # returns are never deleted
        return order, saga, ret

    async def _expecting(
        self, uow: OrderUnitOfWork, return_id: str, step: ReturnStep
    ) -> tuple[Order, Saga, Return, datetime] | None:
        try:
            order, saga, ret = await self._lock(uow, return_id)
        except (errors.NotFound, errors.InvalidArgument):
            _log.warning("reply for an unknown return", return_id=return_id, step=step.value)
            return None
        if ret.step is not step:
            return None  # stale or repeated: the return has moved on
        return order, saga, ret, _now()

    def _begin(self, uow: OrderUnitOfWork, ret: Return, step: ReturnStep, now: datetime) -> None:
        ret.step = step
        ret.step_attempts = 1
        ret.step_deadline = now + timedelta(seconds=self._policy.step_deadline_seconds)
        ret.updated_at = now
        ret.log.append((step, "started"))
        self._send(uow, ret)

    async def _credit(self, uow: OrderUnitOfWork, order: Order, ret: Return, now: datetime) -> None:
        """Start the credit note, unless the return is worth nothing (gift units only): billing
        issues no empty credit note, so such a return is closed here with no refund."""
        if ret.amount_minor:
            self._begin(uow, ret, ReturnStep.CREDIT, now)
            return
        ret.log.append((ReturnStep.CREDIT, "skipped: nothing to refund"))
        ret.refunded("", "", now)
        await self._settle_order(uow, order, ret, now)

    def _finish(self, ret: Return, outcome: str) -> None:
        assert ret.step is not None
        ret.log.append((ret.step, outcome))
        ret.step, ret.step_deadline, ret.step_attempts = None, None, 0

    def _send(self, uow: OrderUnitOfWork, ret: Return) -> None:
        command = messages.step_command(ret)
        uow.outbox.add(self._topology.subject_for(command), command)

    async def _settle_order(
        self, uow: OrderUnitOfWork, order: Order, ret: Return, now: datetime
    ) -> None:
        """Once no return of the order is pending, its status says what was refunded."""
        if ret.state in (ReturnState.REFUNDED, ReturnState.REJECTED, ReturnState.FAILED):
            finished = ret.state.value
            uow.after_commit(lambda: self._metrics.finished.labels(finished).inc())
        returns = [r if r.id != ret.id else ret for r in await uow.returns.of_order(order.id)]
        if order.status is not OrderStatus.REFUND_REQUESTED:
            return
        if any(r.state in _PENDING for r in returns):
            return
        refunded = sum(r.amount_minor for r in returns if r.state is ReturnState.REFUNDED)
        if refunded >= order.total_minor:
            order.change_status(OrderStatus.REFUNDED, "all refunded", now)
        elif refunded:
            order.change_status(
                OrderStatus.PARTIALLY_REFUNDED, f"{refunded} of {order.total_minor} refunded", now
            )
        elif await checks.all_delivered(uow, order.id):
            order.change_status(OrderStatus.COMPLETED, "refund declined", now)
        else:
            # A refund-only request for a parcel still in transit was declined: wait for it.
            order.change_status(OrderStatus.SHIPPED, "refund declined, still in transit", now)

    async def _save(self, uow: OrderUnitOfWork, order: Order, saga: Saga, ret: Return) -> None:
        await uow.returns.save(ret)
        await self._orchestrator.save(uow, order, saga)
