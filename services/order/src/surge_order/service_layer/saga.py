"""The order saga, in one place: what each reply does, compensation, deadlines and the sweeper.

    PlaceOrder ─> inventory.reserve ─> StockReserved ─┬─ held by a rule: AWAITING_REVIEW
                                                      │   (approve: as below; reject: cancel)
                                                      ├─ prepaid, unpaid: AWAITING_PAYMENT
                                                      └─ else (or on payment):
    CommitReservation + fulfillment.create_shipment ─> ShipmentsCreated
    ─> billing.issue_invoice ─> InvoiceIssued ─> order awaiting_shipment, saga COMPLETED
    A rejection compensates in reverse (billing.void_invoice -> fulfillment.cancel_shipment ->
    inventory.release), each awaiting its reply; then the order is cancelled, saga COMPENSATED.

Rules every handler follows:
- lock the order and saga (`uow.orders.lock`), act only on the reply the saga waits for now
  (`Saga.is_waiting_for`): stale or duplicate replies are ignored;
- one step in flight at a time: a cancellation during a forward step waits for that step's reply
  (or its deadline) before compensating, so a compensation never overtakes the step it undoes;
- status changes go through the transition table and are announced (`OrderStatusChanged`) in
  the same transaction, via the outbox;
- a step not answered by its deadline is resent (participants are idempotent per order) with
  backoff up to `max_step_attempts`; then a forward step fails and compensation starts, and a
  compensation step parks the saga in COMPENSATION_FAILED for an operator (`retry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from surge.billing.v1 import billing_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge.order.v1 import order_pb2
from surge_platform import errors
from surge_platform.ids import new_id
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_order.adapters.metrics import OrderMetrics
from surge_order.domain.model import Allocation, Order, Saga, TransitionNotAllowed
from surge_order.domain.order import PaymentTerms
from surge_order.domain.rules import REVIEW_TAG
from surge_order.domain.saga import (
    FORWARD,
    Direction,
    SagaState,
    Step,
    backoff_seconds,
    compensation_plan,
)
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import promotions, returns_messages
from surge_order.service_layer import saga_messages as messages
from surge_order.service_layer.sold_out import SoldOutGate
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["Orchestrator", "SagaPolicy"]

_log = get_logger("surge.order.saga")
# An order ending in these gives back its coupon use and purchase-limited units.
_RELEASING = frozenset({OrderStatus.CANCELLED, OrderStatus.CLOSED})


@dataclass(frozen=True)
class SagaPolicy:
    unpaid_timeout_seconds: int = 1800
    reservation_ttl_seconds: int = 900
    step_deadline_seconds: float = 15.0
    step_backoff_max_seconds: float = 120.0
    max_step_attempts: int = 5
    sweep_batch: int = 200
    review_hold_seconds: int = 86400  # added to a held order's reservation TTL


def _now() -> datetime:
    return datetime.now(UTC)


class Orchestrator:
    def __init__(
        self,
        topology: Topology,
        metrics: OrderMetrics,
        policy: SagaPolicy,
        sold_out: SoldOutGate | None = None,
    ) -> None:
        self._topology = topology
        self._metrics = metrics
        self._policy = policy
        # Fed by stock refusals here, asked by placement (off unless given).
        self.sold_out = sold_out or SoldOutGate(0)

    # ----------------------------------------------------------------- start, pay, cancel, retry

    async def start(
        self, uow: OrderUnitOfWork, order: Order, saga: Saga, now: datetime, *, alone: bool = False
    ) -> bool:
        """Insert a new order with its saga and send the first step; False if it exists.

        `alone`: the placement writes nothing else, so the order and its messages go in one
        statement that commits by itself (the caller's `commit()` then only runs callbacks)."""
        self._enter(saga, Step.RESERVE, Direction.FORWARD, now)
        assert saga.step_log_id is not None
        uow.orders.start_step(saga.step_log_id, saga, now)
        self._announce(uow, order)
        if alone:
            self._send(uow, order, saga)
            # The statement writes the messages too; a repeat (False) writes none of them.
            if not await uow.orders.add(order, saga, uow.outbox.take_pending()):
                return False
        else:
            if not await uow.orders.add(order, saga):
                return False
            self._send(uow, order, saga)
        channel, currency, total = (
            self._metrics.channel(order.channel),
            order.currency,
            order.total_minor,
        )
        uow.after_commit(self._metrics.orders_placed.labels(channel).inc)
        uow.after_commit(lambda: self._metrics.gmv.labels(currency).inc(total))
        return True

    async def paid(self, uow: OrderUnitOfWork, order: Order, saga: Saga, now: datetime) -> None:
        """A payment was recorded: a saga waiting for it moves on to shipping."""
        if saga.state is SagaState.AWAITING_PAYMENT:
            saga.state = SagaState.RUNNING
            await self._begin(uow, order, saga, Step.CREATE_SHIPMENT, Direction.FORWARD, now)
        # Otherwise the reservation is still in flight; StockReserved sees `order.paid`.

    async def cancel(
        self, uow: OrderUnitOfWork, order: Order, saga: Saga, reason: str, now: datetime
    ) -> None:
        """Cancel now and undo what was done. Idempotent for a cancelled order."""
        if order.status is OrderStatus.CANCELLED:
            return
        if (await uow.orders.shipment_counts(order.id)).dispatched:
            raise errors.FailedPrecondition(f"order {order.id} has a dispatched shipment")
        self._change(uow, order, OrderStatus.CANCELLED, reason, now)
        if saga.state is SagaState.RUNNING:
            # The step in flight finishes (reply or deadline) before compensation starts.
            saga.failure_reason = reason
            saga.updated_at = now
        elif saga.state in (
            SagaState.AWAITING_PAYMENT,
            SagaState.AWAITING_REVIEW,
            SagaState.COMPLETED,
        ):
            await self._compensate(uow, order, saga, reason, now, step=None, category="cancelled")

    async def approve(self, uow: OrderUnitOfWork, order: Order, saga: Saga, now: datetime) -> None:
        """An operator approved a held order: it goes on as if it had never been held."""
        if saga.state is not SagaState.AWAITING_REVIEW:
            raise errors.FailedPrecondition(
                f"order {order.id} is {order.status}; it can be approved once its stock is "
                "reserved and it waits in pending_review"
            )
        if order.payment_terms is PaymentTerms.PREPAID and not order.paid:
            saga.state = SagaState.AWAITING_PAYMENT
            saga.updated_at = now
            self._change(uow, order, OrderStatus.PENDING_PAYMENT, "review approved", now)
            return
        saga.state = SagaState.RUNNING
        to = OrderStatus.PAID if order.paid else OrderStatus.RESERVING
        self._change(uow, order, to, "review approved", now)
        await self._begin(uow, order, saga, Step.CREATE_SHIPMENT, Direction.FORWARD, now)

    async def retry(self, uow: OrderUnitOfWork, order: Order, saga: Saga, now: datetime) -> None:
        """Operator action: resume a parked compensation or resend a stalled step."""
        retryable = (SagaState.COMPENSATION_FAILED, SagaState.COMPENSATING, SagaState.RUNNING)
        if saga.state not in retryable or saga.current_step is None:
            raise errors.FailedPrecondition(
                f"saga of order {order.id} is {saga.state}; only a parked or stalled saga retries"
            )
        if saga.step_log_id is not None and saga.state is not SagaState.COMPENSATION_FAILED:
            uow.orders.finish_step(
                saga.step_log_id,
                succeeded=False,
                attempts=saga.step_attempts,
                at=now,
                reason="superseded by an operator retry",
            )
        if saga.state is SagaState.COMPENSATION_FAILED:
            saga.state = SagaState.COMPENSATING
        assert saga.direction is not None
        await self._begin(uow, order, saga, saga.current_step, saga.direction, now)

    async def force_compensate(
        self, uow: OrderUnitOfWork, order: Order, saga: Saga, reason: str, now: datetime
    ) -> None:
        """Operator action: cancel and compensate now, without waiting for the step in flight.

        The step in flight counts as failed and is compensated too (it may have had an effect;
        every compensation is idempotent). A saga that is not running is simply cancelled.
        """
        if saga.state is not SagaState.RUNNING or saga.current_step is None:
            if saga.state in (
                SagaState.AWAITING_PAYMENT,
                SagaState.AWAITING_REVIEW,
                SagaState.COMPLETED,
            ):
                await self.cancel(uow, order, saga, reason, now)
                return
            raise errors.FailedPrecondition(
                f"saga of order {order.id} is {saga.state}; only a running saga is force-"
                "compensated (retry a parked one)"
            )
        if (await uow.orders.shipment_counts(order.id)).dispatched:
            raise errors.FailedPrecondition(f"order {order.id} has a dispatched shipment")
        if order.status is not OrderStatus.CANCELLED:
            self._change(uow, order, OrderStatus.CANCELLED, reason, now)
        step = saga.current_step
        await self._failed(uow, saga, now, reason)
        await self._compensate(uow, order, saga, reason, now, step=step, category="forced")
        _log.warning("saga force-compensated", order_id=order.id, saga_id=saga.id, step=step)

    # ---------------------------------------------------------------------- forward replies

    async def on_stock_reserved(
        self, msg: inventory_pb2.StockReserved, uow: OrderUnitOfWork
    ) -> None:
        found = await self._expecting(uow, msg.order_id, msg.saga_id, Step.RESERVE)
        if found is None:
            return
        order, saga, now = found
        saga.allocations = tuple(
            Allocation(a.sku, a.warehouse, a.quantity) for a in msg.allocations
        )
        await self._succeeded(uow, saga, now)
        if saga.failure_reason:  # cancelled while reserving
            await self._compensate(
                uow, order, saga, saga.failure_reason, now, step=None, category="cancelled"
            )
        elif REVIEW_TAG in order.tags and await uow.rules.review_pending(order.id):
            # Held by a rule: the stock stays reserved while an operator decides.
            saga.state = SagaState.AWAITING_REVIEW
            self._change(
                uow, order, OrderStatus.PENDING_REVIEW, "stock reserved, held for review", now
            )
        elif order.payment_terms is PaymentTerms.PREPAID and not order.paid:
            saga.state = SagaState.AWAITING_PAYMENT
            self._change(uow, order, OrderStatus.PENDING_PAYMENT, "stock reserved", now)
        else:
            await self._begin(uow, order, saga, Step.CREATE_SHIPMENT, Direction.FORWARD, now)
        await self._commit(uow, order, saga)

    async def on_shipments_created(
        self, msg: fulfillment_pb2.ShipmentsCreated, uow: OrderUnitOfWork
    ) -> None:
        found = await self._expecting(uow, msg.order_id, msg.saga_id, Step.CREATE_SHIPMENT)
        if found is None:
            return
        order, saga, now = found
        await uow.orders.add_shipments(order.id, [(s.id, s.warehouse) for s in msg.shipments])
        await self._succeeded(uow, saga, now)
        if saga.failure_reason:
            await self._compensate(
                uow, order, saga, saga.failure_reason, now, step=None, category="cancelled"
            )
        else:
            await self._begin(uow, order, saga, Step.ISSUE_INVOICE, Direction.FORWARD, now)
        await self._commit(uow, order, saga)

    async def on_invoice_issued(self, msg: billing_pb2.InvoiceIssued, uow: OrderUnitOfWork) -> None:
        found = await self._expecting(uow, msg.order_id, msg.saga_id, Step.ISSUE_INVOICE)
        if found is None:
            return
        order, saga, now = found
        await self._succeeded(uow, saga, now)
        if saga.failure_reason:
            await self._compensate(
                uow, order, saga, saga.failure_reason, now, step=None, category="cancelled"
            )
        else:
            saga.state = SagaState.COMPLETED
            self._change(
                uow,
                order,
                OrderStatus.AWAITING_SHIPMENT,
                f"invoice {msg.number or msg.invoice_id} issued",
                now,
            )
            await self._follow_shipments(uow, order, now)
        await self._commit(uow, order, saga)

    # -------------------------------------------------------------------- rejections

    async def on_stock_rejected(
        self, msg: inventory_pb2.StockRejected, uow: OrderUnitOfWork
    ) -> None:
        self.sold_out.refused(msg.available_units)
        await self._rejected(
            uow, msg.order_id, msg.saga_id, Step.RESERVE, f"stock rejected: {msg.reason}"
        )

    async def on_shipments_rejected(
        self, msg: fulfillment_pb2.ShipmentsRejected, uow: OrderUnitOfWork
    ) -> None:
        await self._rejected(
            uow,
            msg.order_id,
            msg.saga_id,
            Step.CREATE_SHIPMENT,
            f"shipments rejected: {msg.reason}",
        )

    async def on_invoice_rejected(
        self, msg: billing_pb2.InvoiceRejected, uow: OrderUnitOfWork
    ) -> None:
        await self._rejected(
            uow, msg.order_id, msg.saga_id, Step.ISSUE_INVOICE, f"invoice rejected: {msg.reason}"
        )

    async def _rejected(
        self, uow: OrderUnitOfWork, order_id: str, saga_id: str, step: Step, reason: str
    ) -> None:
        found = await self._expecting(uow, order_id, saga_id, step)
        if found is None:
            return
        order, saga, now = found
        await self._failed(uow, saga, now, reason)
        await self._compensate(
            uow,
            order,
            saga,
            saga.failure_reason or reason,
            now,
            step=step,
            category="rejected",
            last_step_had_no_effect=True,
        )
        await self._commit(uow, order, saga)

    # ----------------------------------------------------------------- compensation replies

    async def on_stock_released(
        self, msg: inventory_pb2.StockReleased, uow: OrderUnitOfWork
    ) -> None:
        await self._compensated(uow, msg.order_id, msg.saga_id, Step.RELEASE)

    async def on_shipments_cancelled(
        self, msg: fulfillment_pb2.ShipmentsCancelled, uow: OrderUnitOfWork
    ) -> None:
        await self._compensated(uow, msg.order_id, msg.saga_id, Step.CANCEL_SHIPMENT)

    async def on_invoice_voided(self, msg: billing_pb2.InvoiceVoided, uow: OrderUnitOfWork) -> None:
        await self._compensated(uow, msg.order_id, msg.saga_id, Step.VOID_INVOICE)

    async def _compensated(
        self, uow: OrderUnitOfWork, order_id: str, saga_id: str, step: Step
    ) -> None:
        found = await self._expecting(uow, order_id, saga_id, step)
        if found is None:
            return
        order, saga, now = found
        saga.state = SagaState.COMPENSATING
        await self._succeeded(uow, saga, now)
        await self._next_compensation(uow, order, saga, now)
        await self._commit(uow, order, saga)

    # --------------------------------------------------------------- events outside the saga

    async def on_reservation_expired(
        self, msg: inventory_pb2.ReservationExpired, uow: OrderUnitOfWork
    ) -> None:
        locked = await uow.orders.lock(msg.order_id)
        if locked is None:
            return
        order, saga = locked
        now = _now()
        if saga.state is SagaState.AWAITING_PAYMENT:
            # Inventory already returned the units: nothing is left to undo.
            saga.state = SagaState.COMPENSATED
            saga.failure_reason = "payment timeout"
            saga.updated_at = now
            self._metrics_compensation(uow, Step.RESERVE, "expired")
            self._change(uow, order, OrderStatus.CANCELLED, "payment timeout", now)
        elif saga.state is SagaState.AWAITING_REVIEW:
            reason = "review not decided before the reservation expired"
            saga.state = SagaState.COMPENSATED
            saga.failure_reason = reason
            saga.updated_at = now
            self._metrics_compensation(uow, Step.RESERVE, "expired")
            self._change(uow, order, OrderStatus.CANCELLED, reason, now)
            self._refund_if_paid(uow, order, reason)
        elif saga.state is SagaState.RUNNING and not saga.failure_reason:
            await self.cancel(uow, order, saga, "reservation expired", now)
        else:
            return
        await self._commit(uow, order, saga)

    async def on_shipment_dispatched(
        self, msg: fulfillment_pb2.ShipmentDispatched, uow: OrderUnitOfWork
    ) -> None:
        locked = await uow.orders.lock(msg.order_id)
        if locked is None:
            return
        order, saga = locked
        now = _now()
        at = msg.dispatched_at.ToDatetime(UTC) if msg.HasField("dispatched_at") else now
        await uow.orders.shipment_dispatched(order.id, msg.shipment_id, msg.warehouse, at)
        uow.outbox.add(
            self._topology.subject_for(inventory_pb2.ConfirmReservationCommand),
            inventory_pb2.ConfirmReservationCommand(
                order_id=order.id, shipment_id=msg.shipment_id, warehouse=msg.warehouse
            ),
        )
        await self._follow_shipments(uow, order, now)
        await self._commit(uow, order, saga)

    async def on_shipment_delivered(
        self, msg: fulfillment_pb2.ShipmentDelivered, uow: OrderUnitOfWork
    ) -> None:
        locked = await uow.orders.lock(msg.order_id)
        if locked is None:
            return
        order, saga = locked
        now = _now()
        at = msg.delivered_at.ToDatetime(UTC) if msg.HasField("delivered_at") else now
        await uow.orders.shipment_delivered(order.id, msg.shipment_id, at)
        await self._follow_shipments(uow, order, now)
        await self._commit(uow, order, saga)

    async def _follow_shipments(self, uow: OrderUnitOfWork, order: Order, now: datetime) -> None:
        """Move the order along with its shipments: first dispatch, then all delivered."""
        if order.status not in (OrderStatus.AWAITING_SHIPMENT, OrderStatus.SHIPPED):
            return
        counts = await uow.orders.shipment_counts(order.id)
        if order.status is OrderStatus.AWAITING_SHIPMENT and counts.dispatched:
            self._change(uow, order, OrderStatus.SHIPPED, "shipment dispatched", now)
        if (
            order.status is OrderStatus.SHIPPED
            and counts.total
            and counts.delivered == counts.total
        ):
            self._change(uow, order, OrderStatus.DELIVERED, "every shipment delivered", now)
            self._change(uow, order, OrderStatus.COMPLETED, "delivered", now)

    # ------------------------------------------------------------------------ the sweeper

    async def sweep(self, uow: OrderUnitOfWork) -> int:
        """Resend or fail every step past its deadline; returns how many sagas it touched."""
        now = _now()
        due = await uow.orders.due(now, self._policy.sweep_batch)
        for order, saga in due:
            assert saga.current_step is not None
            assert saga.step_log_id is not None
            step = saga.current_step
            if saga.step_attempts < self._policy.max_step_attempts:
                saga.step_attempts += 1
                saga.step_deadline = now + timedelta(
                    seconds=backoff_seconds(
                        self._policy.step_deadline_seconds,
                        saga.step_attempts,
                        self._policy.step_backoff_max_seconds,
                    )
                )
                saga.updated_at = now
                uow.orders.count_attempt(saga.step_log_id, saga.step_attempts)
                self._send(uow, order, saga)
                uow.after_commit(self._metrics.step_resends.labels(step.value).inc)
            elif saga.direction is Direction.FORWARD:
                reason = f"{step} timed out"
                await self._failed(uow, saga, now, reason)
                await self._compensate(
                    uow,
                    order,
                    saga,
                    saga.failure_reason or reason,
                    now,
                    step=step,
                    category="timeout",
                )
            else:
                await self._failed(uow, saga, now, f"{step} timed out", keep_step=True)
                saga.state = SagaState.COMPENSATION_FAILED
                uow.after_commit(self._metrics.parked.labels(step.value).inc)
                _log.error(
                    "saga parked: compensation keeps failing",
                    order_id=order.id,
                    saga_id=saga.id,
                    step=step,
                    attempts=saga.step_attempts,
                )
            await self.save(uow, order, saga)
        await uow.commit()
        return len(due)

    # ------------------------------------------------------------------------ internals

    async def _expecting(
        self, uow: OrderUnitOfWork, order_id: str, saga_id: str, step: Step
    ) -> tuple[Order, Saga, datetime] | None:
        locked = await uow.orders.lock(order_id)
        if locked is None:
            _log.warning("reply for an unknown order", order_id=order_id, step=step)
            return None
        order, saga = locked
        if saga.id != saga_id or not saga.is_waiting_for(step):
            return None  # stale or duplicate: the saga has moved on
        return order, saga, _now()

    def _enter(self, saga: Saga, step: Step, direction: Direction, now: datetime) -> None:
        saga.current_step = step
        saga.direction = direction
        saga.step_log_id = new_id()
        saga.step_started_at = now
        saga.step_attempts = 1
        saga.step_deadline = now + timedelta(seconds=self._policy.step_deadline_seconds)
        saga.updated_at = now
        if direction is Direction.FORWARD:
            saga.progress = FORWARD.index(step) + 1

    async def _begin(
        self,
        uow: OrderUnitOfWork,
        order: Order,
        saga: Saga,
        step: Step,
        direction: Direction,
        now: datetime,
    ) -> None:
        self._enter(saga, step, direction, now)
        assert saga.step_log_id is not None
        uow.orders.start_step(saga.step_log_id, saga, now)
        self._send(uow, order, saga)

    async def _succeeded(self, uow: OrderUnitOfWork, saga: Saga, now: datetime) -> None:
        await self._finish(uow, saga, now, succeeded=True)

    async def _failed(
        self,
        uow: OrderUnitOfWork,
        saga: Saga,
        now: datetime,
        reason: str,
        *,
        keep_step: bool = False,
    ) -> None:
        await self._finish(uow, saga, now, succeeded=False, reason=reason, keep_step=keep_step)

    async def _finish(
        self,
        uow: OrderUnitOfWork,
        saga: Saga,
        now: datetime,
        *,
        succeeded: bool,
        reason: str = "",
        keep_step: bool = False,
    ) -> None:
        assert saga.current_step is not None
        assert saga.step_log_id is not None
        uow.orders.finish_step(
            saga.step_log_id,
            succeeded=succeeded,
            attempts=saga.step_attempts,
            at=now,
            reason=reason,
        )
        step, outcome = saga.current_step.value, "succeeded" if succeeded else "failed"
        seconds = (now - (saga.step_started_at or now)).total_seconds()
        uow.after_commit(lambda: self._metrics.step_seconds.labels(step, outcome).observe(seconds))
        saga.step_deadline = None
        saga.updated_at = now
        if not keep_step:
            saga.current_step = None
            saga.direction = None
            saga.step_log_id = None
            saga.step_started_at = None
            saga.step_attempts = 0

    async def _compensate(
        self,
        uow: OrderUnitOfWork,
        order: Order,
        saga: Saga,
        reason: str,
        now: datetime,
        *,
        step: Step | None,
        category: str,
        last_step_had_no_effect: bool = False,
    ) -> None:
        """Start undoing the saga: compensations run one at a time, newest step first."""
        plan = compensation_plan(saga.progress, last_step_had_no_effect=last_step_had_no_effect)
        saga.failure_reason = reason
        self._metrics_compensation(uow, step or FORWARD[max(0, saga.progress - 1)], category)
        _log.info("saga compensating", order_id=order.id, reason=reason, plan=plan)
        saga.state = SagaState.COMPENSATING
        saga.plan = plan
        await self._next_compensation(uow, order, saga, now)

    async def _next_compensation(
        self, uow: OrderUnitOfWork, order: Order, saga: Saga, now: datetime
    ) -> None:
        if saga.plan:
            step = saga.plan.pop(0)
            await self._begin(uow, order, saga, step, Direction.COMPENSATE, now)
            return
        saga.state = SagaState.COMPENSATED
        if order.status is not OrderStatus.CANCELLED:
            self._change(uow, order, OrderStatus.CANCELLED, saga.failure_reason, now)
        self._refund_if_paid(uow, order, saga.failure_reason)

    def _refund_if_paid(self, uow: OrderUnitOfWork, order: Order, reason: str) -> None:
        """Cancellation after payment refunds in full (billing is idempotent on the order); sent
        once compensation is done, so the invoice is already void and only the payment is left."""
        if order.paid or order.payment_terms is not PaymentTerms.PREPAID:
            # On account, finance records payments in billing directly: the order does not know
            # them, so billing refunds whatever it holds as paid (possibly nothing).
            command = returns_messages.refund_cancelled_order(order, reason or "order cancelled")
            uow.outbox.add(self._topology.subject_for(command), command)

    def _metrics_compensation(self, uow: OrderUnitOfWork, step: Step, category: str) -> None:
        uow.after_commit(self._metrics.compensations.labels(step.value, category).inc)

    def _change(
        self, uow: OrderUnitOfWork, order: Order, to: OrderStatus, reason: str, now: datetime
    ) -> None:
        try:
            order.change_status(to, reason, now)
        except TransitionNotAllowed as exc:
            raise errors.InvalidTransition(f"order {order.id}", exc.current, exc.requested) from exc

    def _announce(self, uow: OrderUnitOfWork, order: Order) -> None:
        subject = self._topology.subject_for(order_pb2.OrderStatusChanged)
        for change in order.changes:
            uow.outbox.add(
                subject,
                messages.status_changed(order, change),
            )
            before = change.from_status.value if change.from_status else "none"
            after = change.to_status.value
            uow.after_commit(self._metrics.status_transitions.labels(before, after).inc)

    async def save(self, uow: OrderUnitOfWork, order: Order, saga: Saga) -> None:
        """Announce the order's status changes and write the order and saga (no commit)."""
        if any(c.to_status in _RELEASING for c in order.changes):
            await promotions.release(uow, order.id, order.updated_at)
        self._announce(uow, order)
        await uow.orders.save(order, saga)

    async def _commit(self, uow: OrderUnitOfWork, order: Order, saga: Saga) -> None:
        await self.save(uow, order, saga)
        await uow.commit()

    # ------------------------------------------------------------------ outgoing commands

    def _send(self, uow: OrderUnitOfWork, order: Order, saga: Saga) -> None:
        """Queue the current step's command(s) (again, when the sweeper resends them)."""
        assert saga.current_step is not None
        ttl = (
            self._policy.unpaid_timeout_seconds
            if order.payment_terms is PaymentTerms.PREPAID and not order.paid
            else self._policy.reservation_ttl_seconds
        )
        if REVIEW_TAG in order.tags:
            ttl += self._policy.review_hold_seconds
        for command in messages.step_commands(saga.current_step, order, saga, ttl):
            uow.outbox.add(self._topology.subject_for(command), command)
