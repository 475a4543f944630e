"""The order saga's rules: its states, its steps in order, and which compensation undoes which.

Forward: inventory.reserve -> fulfillment.create_shipment -> billing.issue_invoice.
A failed step is undone by compensating every step that may have had an effect, newest first.
A step the participant *rejected* had none (participants reject all-or-nothing); a step that
timed out or was interrupted by a cancellation may have, so it is compensated too (every
compensation is idempotent and succeeds when there is nothing to undo).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "COMPENSATION",
    "FORWARD",
    "Direction",
    "SagaState",
    "Step",
    "backoff_seconds",
    "compensation_plan",
]


class SagaState(StrEnum):
    RUNNING = "running"
    AWAITING_PAYMENT = "awaiting_payment"
    AWAITING_REVIEW = "awaiting_review"  # stock reserved; an operator approves or rejects
    COMPLETED = "completed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"


class Direction(StrEnum):
    FORWARD = "forward"
    COMPENSATE = "compensate"


class Step(StrEnum):
    RESERVE = "inventory.reserve"
    CREATE_SHIPMENT = "fulfillment.create_shipment"
    ISSUE_INVOICE = "billing.issue_invoice"
    RELEASE = "inventory.release"
    CANCEL_SHIPMENT = "fulfillment.cancel_shipment"
    VOID_INVOICE = "billing.void_invoice"


FORWARD: tuple[Step, ...] = (Step.RESERVE, Step.CREATE_SHIPMENT, Step.ISSUE_INVOICE)
COMPENSATION: dict[Step, Step] = {
    Step.RESERVE: Step.RELEASE,
    Step.CREATE_SHIPMENT: Step.CANCEL_SHIPMENT,
    Step.ISSUE_INVOICE: Step.VOID_INVOICE,
}


def compensation_plan(progress: int, *, last_step_had_no_effect: bool) -> list[Step]:
    """Compensations to run, in order, for a saga whose first `progress` forward steps started.

    `last_step_had_no_effect` is true when the newest started step was rejected by its
    participant, so only the steps before it need undoing.
    """
    done = FORWARD[: max(0, progress - 1)] if last_step_had_no_effect else FORWARD[:progress]
    return [COMPENSATION[step] for step in reversed(done)]


def backoff_seconds(base: float, attempts: int, cap: float) -> float:
    """Deadline for attempt `attempts + 1`: the step deadline doubled per resend, capped."""
    return float(min(cap, base * (2 ** max(0, attempts - 1))))
