"""Return arithmetic and states: refunds follow the line amount exactly, units are never
returned twice, resellable units go back where they shipped from."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from surge_order.domain.returns import (
    Restock,
    Return,
    ReturnKind,
    ReturnLine,
    ReturnState,
    allocate_restock,
    claimed_amounts,
    price_return,
    returned_units,
)
from surge_platform.errors import FailedPrecondition, InvalidArgument

NOW = datetime(2026, 11, 22, tzinfo=UTC)
LINES = [("TEA", 3, 1_000), ("CUP", 1, 333)]


def a_return(state: ReturnState = ReturnState.REQUESTED, **overrides: object) -> Return:
    fields: dict[str, object] = {
        "id": "r1",
        "order_id": "o1",
        "customer_id": "c1",
        "kind": ReturnKind.RETURN,
        "state": state,
        "reason": "broken",
        "currency": "CNY",
        "lines": (ReturnLine("TEA", 2, 666),),
        "requested_by": "c1",
        "requested_at": NOW,
        "updated_at": NOW,
        **overrides,
    }
    return Return(**fields)  # type: ignore[arg-type]


def test_units_returned_one_by_one_add_up_to_the_line_amount_exactly() -> None:
    amounts = []
    for before in range(3):
        (line,) = price_return(LINES, {"TEA": before}, [("TEA", 1)])
        amounts.append(line.amount_minor)
    assert amounts == [333, 333, 334]
    assert sum(amounts) == 1_000


def test_returning_more_units_than_are_left_is_refused() -> None:
    with pytest.raises(FailedPrecondition, match="1 of 3 left"):
        price_return(LINES, {"TEA": 2}, [("TEA", 2)])


def test_a_malformed_request_names_every_bad_field() -> None:
    with pytest.raises(InvalidArgument) as bad:
        price_return(LINES, {}, [("NOPE", 1), ("TEA", 0), ("TEA", 1)])
    assert set(bad.value.field_violations) == {"lines[0].sku", "lines[1].quantity", "lines[2].sku"}


def test_rejected_and_failed_returns_give_their_units_back() -> None:
    live = a_return(ReturnState.REFUNDED)
    rejected = a_return(ReturnState.REJECTED, id="r2")
    assert returned_units([live, rejected]) == {"TEA": 2}


def test_resellable_units_fill_the_warehouses_they_shipped_from() -> None:
    allocations = [("TEA", "HZ-01", 1), ("TEA", "SH-01", 2)]
    plan = allocate_restock(allocations, [Restock("TEA", "HZ-01", 1)], {"TEA": 2})
    assert plan == (Restock("TEA", "SH-01", 2),)
    with pytest.raises(FailedPrecondition):
        allocate_restock(allocations, [Restock("TEA", "HZ-01", 1)], {"TEA": 3})


def test_an_inspection_must_account_for_every_unit() -> None:
    ret = a_return(ReturnState.APPROVED)
    with pytest.raises(InvalidArgument) as bad:
        ret.receive({"TEA": (1, 0), "CUP": (1, 0)}, NOW)
    assert set(bad.value.field_violations) == {"lines.TEA", "lines.CUP"}
    ret.receive({"TEA": (1, 1)}, NOW)
    assert ret.state is ReturnState.RECEIVED
    assert (ret.lines[0].resellable, ret.lines[0].damaged) == (1, 1)


def test_decisions_follow_the_states() -> None:
    with pytest.raises(InvalidArgument):
        a_return().reject("op", " ", NOW)
    refund_only = a_return(ReturnState.APPROVED, kind=ReturnKind.REFUND_ONLY)
    with pytest.raises(FailedPrecondition, match="refund-only"):
        refund_only.receive({"TEA": (2, 0)}, NOW)
    with pytest.raises(FailedPrecondition):
        a_return(ReturnState.REFUNDED).approve("op", "", NOW)


# Buy 2 get 1: three units of TEA at list 1_000, one of them a gift, so the line pays 2_000.
GIFT_LINES = [("TEA", 3, 2_000), ("CUP", 1, 333)]
GIFTS = {"TEA": 1}


def test_gift_units_come_back_first_and_are_worth_nothing() -> None:
    (gift,) = price_return(GIFT_LINES, {}, [("TEA", 1)], GIFTS)
    assert gift.amount_minor == 0
    (paid,) = price_return(GIFT_LINES, {"TEA": 1}, [("TEA", 1)], GIFTS)
    assert paid.amount_minor == 1_000  # a paid unit: its share of the line total


def test_returning_units_piece_by_piece_never_refunds_more_than_was_paid() -> None:
    amounts = [
        price_return(GIFT_LINES, {"TEA": before}, [("TEA", 1)], GIFTS)[0].amount_minor
        for before in range(3)
    ]
    assert amounts == [0, 1_000, 1_000]
    (everything,) = price_return(GIFT_LINES, {}, [("TEA", 3)], GIFTS)
    assert everything.amount_minor == sum(amounts) == 2_000


def test_paid_units_share_an_uneven_line_total_exactly() -> None:
    lines = [("TEA", 4, 1_001)]  # 3 paid units carry 1_001, one gift
    amounts = [
        price_return(lines, {"TEA": before}, [("TEA", 1)], {"TEA": 1})[0].amount_minor
        for before in range(4)
    ]
    assert amounts == [0, 333, 334, 334]
    assert sum(amounts) == 1_001


def test_a_line_of_gift_units_only_refunds_nothing() -> None:
    (free,) = price_return([("SAMPLE", 2, 0)], {}, [("SAMPLE", 2)], {"SAMPLE": 2})
    assert free.amount_minor == 0


def test_lines_without_gifts_keep_the_pro_rata_split() -> None:
    (cup,) = price_return(GIFT_LINES, {}, [("CUP", 1)], GIFTS)
    assert cup.amount_minor == 333


def test_a_rejected_gift_return_does_not_make_the_gift_worth_money_later() -> None:
    gift, paid = (
        a_return(ReturnState.REJECTED, lines=(ReturnLine("TEA", 1, 0),)),
        a_return(ReturnState.REFUNDED, id="r2", lines=(ReturnLine("TEA", 2, 2_000),)),
    )
    live = [gift, paid]
    assert claimed_amounts(live) == {"TEA": 2_000}
    (last,) = price_return(
        GIFT_LINES, returned_units(live), [("TEA", 1)], GIFTS, claimed_amounts(live)
    )
    assert last.amount_minor == 0
