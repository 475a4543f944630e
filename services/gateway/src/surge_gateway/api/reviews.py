"""`/v1/reviews` (operator, admin): orders held by a rule, their stock reserved, waiting for a
decision. Approve → the saga continues; reject (a note is required) → the order is cancelled and
its stock released. Every decision is recorded with who, when and the note."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query
from surge.order.v1 import rules_pb2

from surge_gateway import convert
from surge_gateway.api.deps import Downstreams
from surge_gateway.auth import Operator
from surge_gateway.rules_schemas import RejectRequest, ReviewDecision, ReviewPage, ReviewPublic
from surge_gateway.schemas import PRINTABLE

__all__ = ["router"]

router = APIRouter(prefix="/v1/reviews", tags=["reviews"])

OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
_STATUS = {
    "pending": rules_pb2.REVIEW_STATUS_PENDING,
    "approved": rules_pb2.REVIEW_STATUS_APPROVED,
    "rejected": rules_pb2.REVIEW_STATUS_REJECTED,
}
_STATUS_NAMES = {value: name for name, value in _STATUS.items()}


def review_public(review: rules_pb2.Review) -> ReviewPublic:
    order_status = review.order_status.removeprefix("ORDER_STATUS_").lower() or None
    return ReviewPublic(
        order_id=review.order_id,
        reasons=list(review.reasons),
        status=_STATUS_NAMES.get(review.status, "pending"),
        order_status=order_status,
        customer_id=review.customer_id,
        channel=review.channel,
        total=convert.money(review.total),
        tags=list(review.tags),
        held_at=convert.timestamp(review.held_at),
        escalated_at=convert.timestamp(review.escalated_at),
        decided_at=convert.timestamp(review.decided_at),
        decided_by=review.decided_by or None,
        note=review.note or None,
    )


@router.get("", response_model=ReviewPage, summary="The review queue, longest waiting first")
async def list_reviews(
    principal: Operator,
    down: Downstreams,
    status: Annotated[Literal["pending", "approved", "rejected"], Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, pattern=PRINTABLE)] = None,
) -> ReviewPage:
    reply = await down.reviews.ListReviews(
        rules_pb2.ListReviewsRequest(
            status=_STATUS[status], page_size=limit, page_token=cursor or ""
        ),
        timeout=down.timeout,
    )
    return ReviewPage(
        items=[review_public(r) for r in reply.reviews],
        next_cursor=reply.next_page_token or None,
    )


@router.post(
    "/{order_id}/approve",
    response_model=ReviewPublic,
    summary="Approve a held order: its saga continues",
)
async def approve(
    order_id: OrderId,
    principal: Operator,
    down: Downstreams,
    body: Annotated[ReviewDecision | None, Body()] = None,
) -> ReviewPublic:
    reply = await down.reviews.ApproveReview(
        rules_pb2.ApproveReviewRequest(
            order_id=order_id, actor=principal.rate_key, note=body.note if body else ""
        ),
        timeout=down.timeout,
    )
    return review_public(reply.review)


@router.post(
    "/{order_id}/reject",
    response_model=ReviewPublic,
    summary="Reject a held order: it is cancelled and its stock released",
)
async def reject(
    order_id: OrderId, body: RejectRequest, principal: Operator, down: Downstreams
) -> ReviewPublic:
    reply = await down.reviews.RejectReview(
        rules_pb2.RejectReviewRequest(order_id=order_id, actor=principal.rate_key, note=body.note),
        timeout=down.timeout,
    )
    return review_public(reply.review)
