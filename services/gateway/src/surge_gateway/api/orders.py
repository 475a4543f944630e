"""`/v1/orders`: place, read, list, cancel, pay, retry the saga, and follow status live (SSE)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2
from surge.order.v1 import order_pb2

from surge_gateway import convert, schemas
from surge_gateway.api.deps import (
    Downstreams,
    IdempotencyKey,
    Idempotent,
    NewOrderPurchaser,
    Settings,
    accept_parts,
    ensure_visible,
    run_once,
    run_order_once,
)
from surge_gateway.auth import (
    Canceller,
    CurrentUser,
    Operator,
    Payer,
    Principal,
)
from surge_gateway.downstream import Downstream
from surge_gateway.idempotency import StoredResponse
from surge_gateway.order_events import OrderEvents
from surge_gateway.problems import FieldError, ProblemError
from surge_gateway.schemas import PRINTABLE

router = APIRouter(prefix="/v1/orders", tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
TERMINAL = {"completed", "cancelled", "closed", "refunded"}


async def fetch_order(down: Downstream, order_id: str, principal: Principal) -> order_pb2.Order:
    reply = await down.orders.GetOrder(
        order_pb2.GetOrderRequest(order_id=order_id), timeout=down.timeout
    )
    order: order_pb2.Order = reply.order
    ensure_visible(principal, order.customer.id)
    return order


def _customer_id(principal: Principal, body: schemas.OrderCreate) -> str:
    if principal.sees_only_own:
        if body.customer.id not in (None, principal.subject):
            raise ProblemError(403, "Customers may place orders only for themselves.")
        return principal.subject
    if body.customer.id is None:
        raise ProblemError(
            422,
            "The request is not valid.",
            errors=[FieldError(field="customer.id", detail="required when ordering for others")],
        )
    return body.customer.id


@router.post(
    "",
    status_code=202,
    response_model=schemas.OrderPublic,
    summary="Place an order (prices come from the catalog)",
    responses={
        200: {
            "model": schemas.OrderPublic,
            "description": "Same (channel, external_id) seen: the existing order",
        }
    },
)
async def place_order(
    body: schemas.OrderCreate,
    request: Request,
    principal: NewOrderPurchaser,
    key: IdempotencyKey,
) -> Response:
    idempotency, placer = accept_parts(request)
    customer_id = _customer_id(principal, body)
    # One key per intended order: a retry with another Idempotency-Key but the same external id
    # still reaches the same order (the order service is idempotent on client_order_id).
    client_order_id = (
        body.external_id or hashlib.sha256(f"{principal.rate_key}\n{key}".encode()).hexdigest()[:32]
    )

    entry = placer.entry(body, client_order_id=client_order_id)

    async def produce(duplicate: bool | None) -> StoredResponse:
        placed = await placer.place(
            body,
            customer_id=customer_id,
            client_order_id=client_order_id,
            entry=entry,
            duplicate=duplicate,
        )
        public = convert.order_public(placed.order)
        return StoredResponse(
            202 if placed.created else 200,
            public.model_dump_json().encode(),
            {"Location": public.links["self"]},
        )

    return await run_order_once(request, principal, key, idempotency, entry, produce)


@router.get("", response_model=schemas.OrderPage, summary="List orders, newest first")
async def list_orders(
    principal: CurrentUser,
    down: Downstreams,
    status: Annotated[schemas.OrderStatusName | None, Query()] = None,
    channel: Annotated[str | None, Query(max_length=32, pattern=PRINTABLE)] = None,
    customer_id: Annotated[str | None, Query(max_length=128, pattern=PRINTABLE)] = None,
    created_from: Annotated[datetime | None, Query()] = None,
    created_to: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, pattern=PRINTABLE)] = None,
) -> schemas.OrderPage:
    if principal.sees_only_own:
        if customer_id not in (None, principal.subject):
            raise ProblemError(403, "Customers may list only their own orders.")
        customer_id = principal.subject
    request = order_pb2.ListOrdersRequest(
        status=convert.order_status_value(status) if status else 0,  # type: ignore[arg-type]
        channel=channel or "",
        customer_id=customer_id or "",
        page_size=limit,
        page_token=cursor or "",
    )
    if created_from is not None:
        request.created_from.CopyFrom(convert.to_timestamp(created_from))
    if created_to is not None:
        request.created_to.CopyFrom(convert.to_timestamp(created_to))
    reply = await down.orders.ListOrders(request, timeout=down.timeout)
    return schemas.OrderPage(
        items=[convert.order_public(o) for o in reply.orders],
        next_cursor=reply.next_page_token or None,
    )


@router.get(
    "/{order_id}",
    response_model=schemas.OrderDetail,
    summary="One order with its history, saga, shipments and invoice",
)
async def get_order(
    order_id: OrderId, principal: CurrentUser, down: Downstreams
) -> schemas.OrderDetail:
    order = await fetch_order(down, order_id, principal)
    shipments, invoices = await asyncio.gather(
        down.fulfillment.ListShipments(
            fulfillment_pb2.ListShipmentsRequest(order_id=order_id), timeout=down.timeout
        ),
        down.billing.ListInvoices(
            billing_pb2.ListInvoicesRequest(order_id=order_id, page_size=10),
            timeout=down.timeout,
        ),
    )
    live = [i for i in invoices.invoices if i.status != billing_pb2.INVOICE_STATUS_VOID]
    invoice = (live or list(invoices.invoices) or [None])[-1]
    return convert.order_detail(order, list(shipments.shipments), invoice)


@router.post(
    "/{order_id}/cancel",
    response_model=schemas.OrderPublic,
    summary="Cancel an order (until its shipment is dispatched)",
)
async def cancel_order(
    order_id: OrderId,
    principal: Canceller,
    down: Downstreams,
    body: Annotated[schemas.CancelRequest | None, Body()] = None,
) -> schemas.OrderPublic:
    await fetch_order(down, order_id, principal)
    reply = await down.orders.CancelOrder(
        order_pb2.CancelOrderRequest(
            order_id=order_id,
            reason=(body or schemas.CancelRequest()).reason,
            actor=principal.rate_key,
        ),
        timeout=down.timeout,
    )
    return convert.order_public(reply.order)


@router.post(
    "/{order_id}/payments",
    response_model=schemas.OrderPublic,
    summary="Record a payment for a prepaid order",
)
async def record_payment(
    order_id: OrderId,
    body: schemas.PaymentCreate,
    request: Request,
    principal: Payer,
    key: IdempotencyKey,
    idempotency: Idempotent,
    down: Downstreams,
) -> Response:
    async def produce() -> StoredResponse:
        await fetch_order(down, order_id, principal)
        reply = await down.orders.RecordPayment(
            order_pb2.RecordPaymentRequest(
                order_id=order_id,
                amount=common_pb2.Money(
                    amount_minor=body.amount.amount_minor, currency=body.amount.currency
                ),
                method=body.method,
                reference=body.reference,
            ),
            timeout=down.timeout,
        )
        return StoredResponse(200, convert.order_public(reply.order).model_dump_json().encode())

    return await run_once(request, principal, key, idempotency, produce)


@router.post(
    "/{order_id}/saga/retry",
    status_code=202,
    response_model=schemas.OrderPublic,
    summary="Retry a parked saga (operators)",
)
async def retry_saga(
    order_id: OrderId, principal: Operator, down: Downstreams
) -> schemas.OrderPublic:
    reply = await down.orders.RetrySaga(
        order_pb2.RetrySagaRequest(order_id=order_id, actor=principal.rate_key),
        timeout=down.timeout,
    )
    return convert.order_public(reply.order)


@router.get(
    "/{order_id}/events",
    summary="Server-Sent Events: each status change of the order as it happens",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def order_events(
    order_id: OrderId,
    request: Request,
    principal: CurrentUser,
    down: Downstreams,
    settings: Settings,
    last_event_id: Annotated[int | None, Query(ge=0, alias="last_event_id")] = None,
) -> StreamingResponse:
    first = await fetch_order(down, order_id, principal)
    header = request.headers.get("last-event-id", "")
    sent = last_event_id if last_event_id is not None else int(header) if header.isdigit() else 0

    events: OrderEvents = request.app.state.order_events

    async def stream() -> AsyncIterator[str]:
        nonlocal sent
        order = first
        deadline = time.monotonic() + settings.sse_max_seconds
        # Pushed changes (NATS) wake the loop; polling is the fallback (docs/runbook.md).
        async with events.watch(order_id) as changed:
            # A change between the first read and the subscription: read once more at once.
            read_now = events.active
            while True:
                history = [c for c in order.history if c.to_status]
                for index in range(sent, len(history)):
                    change = convert.status_change(history[index])
                    data = json.dumps(change.model_dump(mode="json"))
                    yield f"id: {index + 1}\nevent: status\ndata: {data}\n\n"
                sent = max(sent, len(history))
                status = convert.enum_name(order_pb2.OrderStatus, order.status, "ORDER_STATUS_")
                if status in TERMINAL or time.monotonic() > deadline:
                    return
                if await request.is_disconnected():
                    return
                if not read_now:
                    wait = (
                        settings.sse_fallback_poll_seconds
                        if events.active
                        else settings.sse_poll_seconds
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), wait)
                read_now = False
                changed.clear()
                reply = await down.orders.GetOrder(
                    order_pb2.GetOrderRequest(order_id=order_id), timeout=down.timeout
                )
                order = reply.order

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
