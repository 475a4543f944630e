"""`POST /v1/channels/{channel}/orders`: marketplace webhooks (API key + HMAC signature).

The channel authenticates with its API key (`X-Api-Key`, stored hashed) and signs the raw body
(`X-Surge-Signature: sha256=<hex>`, HMAC-SHA256 keyed with that API key). The payload is mapped
to the canonical order by the channel's mapper. 202 for a new order, 200 when the same
(channel, external id) was already accepted (the existing order is returned).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from surge_gateway import convert, schemas
from surge_gateway.api.deps import IdempotencyKey, NewOrderChannel, accept_parts, run_order_once
from surge_gateway.channels import MAPPERS, MappingError, map_payload
from surge_gateway.channels.signature import SIGNATURE_HEADER, verify
from surge_gateway.idempotency import StoredResponse
from surge_gateway.problems import ProblemError

router = APIRouter(prefix="/v1/channels", tags=["channels"])


@router.post(
    "/{channel}/orders",
    status_code=202,
    response_model=schemas.ChannelOrderAccepted,
    summary="Marketplace webhook: an order in the channel's own payload shape",
    responses={200: {"model": schemas.ChannelOrderAccepted, "description": "Already accepted"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def channel_order(
    channel: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$")],
    request: Request,
    principal: NewOrderChannel,
    key: IdempotencyKey,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> Response:
    idempotency, placer = accept_parts(request)
    if channel not in MAPPERS:
        raise ProblemError(404, f"Unknown channel {channel!r}.")
    if principal.subject != channel:
        raise ProblemError(403, "This API key belongs to another channel.")
    raw = await request.body()
    if not verify(request.headers.get("x-api-key", ""), raw, signature):
        raise ProblemError(401, f"Missing or invalid {SIGNATURE_HEADER} header.")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise ProblemError(400, "The body is not valid JSON.") from exc
    try:
        order = map_payload(channel, payload)
    except MappingError as exc:
        raise ProblemError(422, "The payload does not map to an order.", errors=exc.errors) from exc
    assert order.customer.id is not None
    assert order.external_id is not None
    customer_id, external_id = order.customer.id, order.external_id

    entry = placer.entry(order, client_order_id=external_id)

    async def produce(duplicate: bool | None) -> StoredResponse:
        placed = await placer.place(
            order,
            customer_id=customer_id,
            client_order_id=external_id,
            entry=entry,
            duplicate=duplicate,
        )
        public = convert.order_public(placed.order)
        body = schemas.ChannelOrderAccepted(
            order=public, created=placed.created, possible_duplicate=placed.possible_duplicate
        )
        return StoredResponse(
            202 if placed.created else 200,
            body.model_dump_json().encode(),
            {"Location": public.links["self"]},
        )

    return await run_order_once(request, principal, key, idempotency, entry, produce)
