"""Which compensations undo a saga, and how step deadlines back off."""

from __future__ import annotations

from surge_order.domain.saga import Step, backoff_seconds, compensation_plan


def test_a_rejected_reservation_has_nothing_to_undo() -> None:
    assert compensation_plan(1, last_step_had_no_effect=True) == []


def test_a_rejected_invoice_undoes_shipments_then_stock() -> None:
    assert compensation_plan(3, last_step_had_no_effect=True) == [
        Step.CANCEL_SHIPMENT,
        Step.RELEASE,
    ]


def test_a_timed_out_step_is_undone_too_newest_first() -> None:
    assert compensation_plan(3, last_step_had_no_effect=False) == [
        Step.VOID_INVOICE,
        Step.CANCEL_SHIPMENT,
        Step.RELEASE,
    ]
    assert compensation_plan(1, last_step_had_no_effect=False) == [Step.RELEASE]


def test_step_deadlines_double_per_resend_up_to_the_cap() -> None:
    assert [backoff_seconds(2.0, n, 10.0) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]
