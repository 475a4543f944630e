"""Order rules and the review queue across the real services: a held order keeps its stock
reserved, approval continues the saga, rejection cancels and releases, old reviews escalate once,
and rules change live (through RuleService or behind its back, as another replica would)."""

from __future__ import annotations

import grpc
import httpx
import pytest
from sqlalchemy import text
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2, rules_pb2, rules_pb2_grpc
from surge_platform.db import create_engine

from tests.integration.saga.conftest import (
    levels,
    place_request,
    stock,
    unique_phone,
    wait_for_status,
)
from tests.support import wait_until
from tests.system import REVIEW_ESCALATION_SECONDS, System

pytestmark = pytest.mark.e2e

S = order_pb2
PREPAID = common_pb2.PAYMENT_TERMS_PREPAID


def rules_stub(system: System) -> rules_pb2_grpc.RuleServiceStub:
    return rules_pb2_grpc.RuleServiceStub(system._channel("order"))


def reviews_stub(system: System) -> rules_pb2_grpc.ReviewServiceStub:
    return rules_pb2_grpc.ReviewServiceStub(system._channel("order"))


async def hold_rule_for(system: System, sku: str) -> str:
    """A HOLD rule that matches only orders of `sku` (other tests never see it)."""
    name = f"hold_{sku.lower().replace('-', '_')}"
    await rules_stub(system).CreateRule(
        rules_pb2.CreateRuleRequest(
            name=name,
            definition=rules_pb2.RuleDefinition(
                condition=f'"{sku}" in order.skus',
                action=rules_pb2.RULE_ACTION_HOLD,
                params={"tag": "manual_check"},
                priority=10,
                enabled=True,
            ),
            actor="user:test-admin",
        ),
        timeout=10,
    )
    return name


async def place(system: System, request: order_pb2.PlaceOrderRequest) -> order_pb2.Order:
    reply = await system.order.PlaceOrder(request, timeout=10)
    assert reply.created
    return reply.order


async def review_of(system: System, order_id: str, status: int) -> rules_pb2.Review:
    reply = await reviews_stub(system).ListReviews(
        rules_pb2.ListReviewsRequest(status=status, page_size=200), timeout=10
    )
    found = [r for r in reply.reviews if r.order_id == order_id]
    assert found, f"order {order_id} is not in the {status} reviews"
    return found[0]


async def test_a_held_order_waits_with_its_stock_reserved_and_approval_ships_it(
    system: System,
) -> None:
    sku = system.unique("HOLD")
    await system.create_sku(sku, {"HZ-01": 5})
    await hold_rule_for(system, sku)
    order = await place(system, place_request([(sku, 2)]))
    assert {"manual_check", "review"} <= set(order.tags)

    held = await wait_for_status(system, order.id, S.ORDER_STATUS_PENDING_REVIEW)
    assert held.saga.state == S.SAGA_STATE_AWAITING_REVIEW
    assert levels(await stock(system, sku)) == (5, 2, 3)  # cannot be sold twice
    queued = await review_of(system, order.id, rules_pb2.REVIEW_STATUS_PENDING)
    assert list(queued.reasons) == [f"hold_{sku.lower().replace('-', '_')}"]

    approved = await reviews_stub(system).ApproveReview(
        rules_pb2.ApproveReviewRequest(order_id=order.id, actor="user:ops", note="known buyer"),
        timeout=10,
    )
    assert approved.review.status == rules_pb2.REVIEW_STATUS_APPROVED
    assert (approved.review.decided_by, approved.review.note) == ("user:ops", "known buyer")
    assert approved.review.HasField("decided_at")
    done = await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)
    assert "review approved" in [h.reason for h in done.history]

    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await reviews_stub(system).RejectReview(
            rules_pb2.RejectReviewRequest(order_id=order.id, actor="user:ops", note="late"),
            timeout=10,
        )
    assert twice.value.code() is grpc.StatusCode.FAILED_PRECONDITION


async def test_approving_a_held_prepaid_order_waits_for_payment(system: System) -> None:
    sku = system.unique("HOLDP")
    await system.create_sku(sku, {"HZ-01": 5})
    await hold_rule_for(system, sku)
    order = await place(system, place_request([(sku, 1)], terms=PREPAID))
    await wait_for_status(system, order.id, S.ORDER_STATUS_PENDING_REVIEW)
    await reviews_stub(system).ApproveReview(
        rules_pb2.ApproveReviewRequest(order_id=order.id, actor="user:ops"), timeout=10
    )
    waiting = await wait_for_status(system, order.id, S.ORDER_STATUS_PENDING_PAYMENT)
    assert waiting.saga.state == S.SAGA_STATE_AWAITING_PAYMENT
    assert levels(await stock(system, sku)) == (5, 1, 4)


async def test_rejecting_a_held_order_cancels_it_and_releases_the_stock(system: System) -> None:
    sku = system.unique("REJ")
    await system.create_sku(sku, {"HZ-01": 5})
    await hold_rule_for(system, sku)
    order = await place(system, place_request([(sku, 3)], terms=PREPAID))
    await wait_for_status(system, order.id, S.ORDER_STATUS_PENDING_REVIEW)

    with pytest.raises(grpc.aio.AioRpcError) as no_note:
        await reviews_stub(system).RejectReview(
            rules_pb2.RejectReviewRequest(order_id=order.id, actor="user:ops"), timeout=10
        )
    assert no_note.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    await reviews_stub(system).RejectReview(
        rules_pb2.RejectReviewRequest(order_id=order.id, actor="user:ops", note="stolen card"),
        timeout=10,
    )
    cancelled = await wait_for_status(system, order.id, S.ORDER_STATUS_CANCELLED)
    assert cancelled.cancel_reason == "review rejected: stolen card"

    async def released() -> bool:
        return levels(await stock(system, sku)) == (5, 0, 5)

    await wait_until(released, 30, "the held stock to be released")
    rejected = await review_of(system, order.id, rules_pb2.REVIEW_STATUS_REJECTED)
    assert (rejected.decided_by, rejected.note) == ("user:ops", "stolen card")


async def test_a_review_left_waiting_is_escalated_once(system: System) -> None:
    sku = system.unique("ESC")
    await system.create_sku(sku, {"HZ-01": 5})
    await hold_rule_for(system, sku)
    order = await place(system, place_request([(sku, 1)]))
    await wait_for_status(system, order.id, S.ORDER_STATUS_PENDING_REVIEW)
    escalated: list[rules_pb2.Review] = []

    async def is_escalated() -> bool:
        review = await review_of(system, order.id, rules_pb2.REVIEW_STATUS_PENDING)
        escalated[:] = [review]
        return review.HasField("escalated_at")

    await wait_until(is_escalated, REVIEW_ESCALATION_SECONDS + 20, "the review to escalate")
    first = escalated[0].escalated_at.ToDatetime()
    assert (first - escalated[0].held_at.ToDatetime()).total_seconds() >= REVIEW_ESCALATION_SECONDS
    # Later sweeps leave it alone: escalated once.
    await wait_until(system.order_consumers_idle, 10, "order consumers idle")
    again = await review_of(system, order.id, rules_pb2.REVIEW_STATUS_PENDING)
    assert again.escalated_at.ToDatetime() == first
    assert await metric(system, "surge_order_reviews_escalated_total") >= 1


async def metric(system: System, sample: str) -> float:
    async with httpx.AsyncClient(timeout=10) as http:
        text_format = (await http.get(system.services["order"].metrics_url)).text
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text_format.splitlines()
        if line.startswith(sample)
    ]
    return sum(values)


async def test_a_high_value_order_is_tagged_and_operators_are_notified(system: System) -> None:
    sku = system.unique("GOLD")
    await system.create_sku(sku, {"HZ-01": 5}, price_minor=600_000)
    order = await place(system, place_request([(sku, 1)]))
    assert "high_value" in order.tags
    assert "review" not in order.tags  # notified, not held
    flagged = 'surge_order_orders_flagged_total{rule="high_value"}'
    assert await metric(system, flagged) >= 1
    await wait_for_status(system, order.id, S.ORDER_STATUS_AWAITING_SHIPMENT)


async def test_a_fourth_order_to_one_phone_within_10_minutes_is_held_for_velocity(
    system: System,
) -> None:
    phone = unique_phone()
    placed = []
    for _ in range(4):
        sku = system.unique("VEL")  # other SKUs each time: not a possible duplicate
        await system.create_sku(sku, {"HZ-01": 5})
        request = place_request([(sku, 1)])
        request.customer.phone = phone
        placed.append(await place(system, request))
    assert all("review" not in o.tags for o in placed[:3])
    assert "velocity" in placed[3].tags
    await wait_for_status(system, placed[3].id, S.ORDER_STATUS_PENDING_REVIEW)
    await wait_for_status(system, placed[2].id, S.ORDER_STATUS_AWAITING_SHIPMENT)


async def test_a_bad_rule_is_refused_and_the_old_version_keeps_running(system: System) -> None:
    sku = system.unique("BAD")
    await system.create_sku(sku, {"HZ-01": 5})
    name = await hold_rule_for(system, sku)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await rules_stub(system).UpdateRule(
            rules_pb2.UpdateRuleRequest(
                name=name,
                definition=rules_pb2.RuleDefinition(
                    condition="order.totl > 1", action=rules_pb2.RULE_ACTION_HOLD, enabled=True
                ),
                actor="user:test-admin",
            ),
            timeout=10,
        )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown field 'totl'" in (refused.value.details() or "")
    got = await rules_stub(system).GetRule(rules_pb2.GetRuleRequest(name=name), timeout=10)
    assert got.rule.version == 1
    assert [(a.change, a.actor) for a in got.audit] == [("created", "user:test-admin")]
    order = await place(system, place_request([(sku, 1)]))
    await wait_for_status(system, order.id, S.ORDER_STATUS_PENDING_REVIEW)


async def test_a_rule_changed_by_another_replica_applies_within_the_refresh_interval(
    system: System,
) -> None:
    sku = system.unique("LIVE")
    await system.create_sku(sku, {"HZ-01": 10})
    name = await hold_rule_for(system, sku)
    # Disabled straight in the database, as a change made through another replica lands: this
    # replica learns of it only by polling the rule-set version.
    engine = create_engine(system.database_urls["order"], pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE rules SET enabled = false, version = version + 1 WHERE name = :n"),
                {"n": name},
            )
            await connection.execute(text("UPDATE rule_set SET version = version + 1"))
    finally:
        await engine.dispose()

    async def not_held() -> bool:
        order = await place(system, place_request([(sku, 1)]))
        return "review" not in order.tags

    await wait_until(not_held, 10, "the disabled rule to stop holding orders", interval=0.3)
