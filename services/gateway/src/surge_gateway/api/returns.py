"""Returns (RMA), credit notes and order balances.

`/v1/orders/{id}/returns`: a customer returns their own order's units (others' orders are 404),
operators for anyone; `/v1/returns/{id}` with approve, reject and receive for operators; the
balance of an order for finance and its customer; credit notes for finance. Every POST takes an
`Idempotency-Key`: a retry with the same key and body replays the first response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from surge.billing.v1 import credit_notes_pb2
from surge.order.v1 import returns_pb2

from surge_gateway import returns_schemas as rs
from surge_gateway.api.deps import (
    Downstreams,
    IdempotencyKey,
    Idempotent,
    ensure_visible,
    run_once,
)
from surge_gateway.api.orders import OrderId, fetch_order
from surge_gateway.auth import CurrentUser, Finance, Operator, Principal, Role, allow
from surge_gateway.downstream import Downstream
from surge_gateway.idempotency import StoredResponse

router = APIRouter(tags=["returns"])

ReturnId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
CreditNoteId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Returner = Annotated[Principal, Depends(allow(Role.CUSTOMER, Role.OPERATOR, Role.ADMIN))]
BalanceReader = Annotated[Principal, Depends(allow(Role.CUSTOMER, Role.FINANCE, Role.ADMIN))]
_KIND = {
    "return": returns_pb2.RETURN_KIND_RETURN,
    "refund_only": returns_pb2.RETURN_KIND_REFUND_ONLY,
}


async def _stored(
    request: Request,
    principal: Principal,
    key: str,
    idempotency: Idempotent,
    call: Callable[[], Awaitable[Any]],
    status: int = 200,
) -> Response:
    """Run `call` (an RPC answering with `order_return`) once per key; answer the return."""

    async def produce() -> StoredResponse:
        public = rs.return_public((await call()).order_return)
        headers = {"Location": public.links["self"]} if status == 201 else {}
        return StoredResponse(status, public.model_dump_json().encode(), headers)

    return await run_once(request, principal, key, idempotency, produce)


@router.post(
    "/v1/orders/{order_id}/returns",
    status_code=201,
    response_model=rs.ReturnPublic,
    summary="Request a return (or a refund only) for units of a delivered order",
    responses={409: {"description": "Not delivered, window closed, or units already returned"}},
)
async def request_return(
    order_id: OrderId,
    body: rs.ReturnCreate,
    request: Request,
    principal: Returner,
    key: IdempotencyKey,
    idempotency: Idempotent,
    down: Downstreams,
) -> Response:
    async def call() -> Any:
        await fetch_order(down, order_id, principal)
        return await down.returns.RequestReturn(
            returns_pb2.RequestReturnRequest(
                order_id=order_id,
                kind=_KIND[body.kind],
                reason=body.reason,
                lines=[
                    returns_pb2.ReturnLineRequest(sku=ln.sku, quantity=ln.quantity)
                    for ln in body.lines
                ],
                actor=principal.rate_key,
            ),
            timeout=down.timeout,
        )

    return await _stored(request, principal, key, idempotency, call, status=201)


@router.get(
    "/v1/orders/{order_id}/returns", response_model=rs.ReturnList, summary="An order's returns"
)
async def list_returns(
    order_id: OrderId, principal: CurrentUser, down: Downstreams
) -> rs.ReturnList:
    await fetch_order(down, order_id, principal)
    reply = await down.returns.ListReturns(
        returns_pb2.ListReturnsRequest(order_id=order_id), timeout=down.timeout
    )
    return rs.ReturnList(items=[rs.return_public(r) for r in reply.returns])


async def _fetch_return(
    down: Downstream, return_id: str, principal: Principal
) -> returns_pb2.OrderReturn:
    reply = await down.returns.GetReturn(
        returns_pb2.GetReturnRequest(return_id=return_id), timeout=down.timeout
    )
    order_return: returns_pb2.OrderReturn = reply.order_return
    ensure_visible(principal, order_return.customer_id, "Return")
    return order_return


@router.get("/v1/returns/{return_id}", response_model=rs.ReturnPublic, summary="One return")
async def get_return(
    return_id: ReturnId, principal: CurrentUser, down: Downstreams
) -> rs.ReturnPublic:
    return rs.return_public(await _fetch_return(down, return_id, principal))


@router.post(
    "/v1/returns/{return_id}/approve",
    response_model=rs.ReturnPublic,
    summary="Approve a requested return (operators); a refund-only return is refunded at once",
)
async def approve_return(
    return_id: ReturnId,
    request: Request,
    principal: Operator,
    key: IdempotencyKey,
    idempotency: Idempotent,
    down: Downstreams,
    body: rs.ReturnDecision | None = None,
) -> Response:
    decision = returns_pb2.ApproveReturnRequest(
        return_id=return_id, actor=principal.rate_key, note=(body or rs.ReturnDecision()).note
    )
    call = partial(down.returns.ApproveReturn, decision, timeout=down.timeout)
    return await _stored(request, principal, key, idempotency, call)


@router.post(
    "/v1/returns/{return_id}/reject",
    response_model=rs.ReturnPublic,
    summary="Reject a requested return with a note (operators)",
)
async def reject_return(
    return_id: ReturnId,
    body: rs.ReturnDecision,
    request: Request,
    principal: Operator,
    key: IdempotencyKey,
    idempotency: Idempotent,
    down: Downstreams,
) -> Response:
    decision = returns_pb2.RejectReturnRequest(
        return_id=return_id, actor=principal.rate_key, note=body.note
    )
    call = partial(down.returns.RejectReturn, decision, timeout=down.timeout)
    return await _stored(request, principal, key, idempotency, call)


@router.post(
    "/v1/returns/{return_id}/receive",
    response_model=rs.ReturnPublic,
    summary="Record the inspected goods of an approved return (operators); refund follows",
)
async def receive_return(
    return_id: ReturnId,
    body: rs.ReturnReceipt,
    request: Request,
    principal: Operator,
    key: IdempotencyKey,
    idempotency: Idempotent,
    down: Downstreams,
) -> Response:
    receipt = returns_pb2.ReceiveReturnRequest(
        return_id=return_id,
        actor=principal.rate_key,
        lines=[
            returns_pb2.ReceivedLine(
                sku=ln.sku,
                resellable_quantity=ln.resellable_quantity,
                damaged_quantity=ln.damaged_quantity,
            )
            for ln in body.lines
        ],
    )
    call = partial(down.returns.ReceiveReturn, receipt, timeout=down.timeout)
    return await _stored(request, principal, key, idempotency, call)


@router.get(
    "/v1/orders/{order_id}/balance",
    response_model=rs.BalancePublic,
    summary="An order's balance: invoiced - credited - paid + refunded",
)
async def order_balance(
    order_id: OrderId, principal: BalanceReader, down: Downstreams
) -> rs.BalancePublic:
    await fetch_order(down, order_id, principal)
    reply = await down.refunds.GetOrderBalance(
        credit_notes_pb2.GetOrderBalanceRequest(order_id=order_id), timeout=down.timeout
    )
    return rs.balance_public(reply.balance)


@router.get(
    "/v1/credit-notes/{credit_note_id}",
    response_model=rs.CreditNotePublic,
    summary="One credit note (finance)",
)
async def get_credit_note(
    credit_note_id: CreditNoteId, principal: Finance, down: Downstreams
) -> rs.CreditNotePublic:
    reply = await down.refunds.GetCreditNote(
        credit_notes_pb2.GetCreditNoteRequest(credit_note_id=credit_note_id), timeout=down.timeout
    )
    return rs.credit_note_public(reply.credit_note)
