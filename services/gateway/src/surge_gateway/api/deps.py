"""Dependencies shared by the routers: the app's parts as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from surge_gateway.admission import AdmissionController
from surge_gateway.auth import PURCHASERS, Authenticator, Principal, Role, allow
from surge_gateway.config import GatewaySettings
from surge_gateway.downstream import Downstream
from surge_gateway.idempotency import Idempotency, IntakeEntry, StoredResponse, fingerprint
from surge_gateway.intake import Placer
from surge_gateway.problems import ProblemError

__all__ = [
    "Admission",
    "Auth",
    "Downstreams",
    "IdempotencyKey",
    "Idempotent",
    "NewOrderChannel",
    "NewOrderPurchaser",
    "Settings",
    "accept_parts",
    "ensure_visible",
    "run_once",
    "run_order_once",
]


def _state(name: str) -> Any:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a thread hop per request
    # and per dependency (the accept path's profile had ~20 % in thread hand-offs).
    async def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    get.__name__ = f"get_{name}"
    return get


Downstreams = Annotated[Downstream, Depends(_state("downstream"))]
Idempotent = Annotated[Idempotency, Depends(_state("idempotency"))]
Admission = Annotated[AdmissionController, Depends(_state("admission"))]
Settings = Annotated[GatewaySettings, Depends(_state("settings"))]
Auth = Annotated[Authenticator, Depends(_state("authenticator"))]


def _admit_new_order(request: Request) -> None:
    admission: AdmissionController = request.app.state.admission
    admission.precheck()


# The caller of a new order, admitted: authentication, role, rate limit, then the admission
# check, in one dependency (see `allow`). FastAPI solves dependencies before it validates the
# body, so a shed order costs authentication and this check, no validation or database work.
NewOrderPurchaser = Annotated[Principal, Depends(allow(*PURCHASERS, then=_admit_new_order))]
NewOrderChannel = Annotated[Principal, Depends(allow(Role.CHANNEL, then=_admit_new_order))]


def accept_parts(request: Request) -> tuple[Idempotency, Placer]:
    """The idempotency runner and the placer, for the two routes that accept new orders: read
    here rather than as dependencies, which cost more than the look-up on every order."""
    state = request.app.state
    return state.idempotency, state.placer


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Unique per intended operation; a retry with the same key and body replays "
        "the first response",
    ),
]


def ensure_visible(principal: Principal, customer_id: str, what: str = "Order") -> None:
    """Customers see only their own things; anything else is 'not found', never 'forbidden'."""
    if principal.sees_only_own and customer_id != principal.subject:
        raise ProblemError(404, f"{what} not found.")


async def run_once(
    request: Request,
    principal: Principal,
    key: str,
    idempotency: Idempotency,
    produce: Callable[[], Awaitable[StoredResponse]],
) -> Response:
    """Run `produce` once per caller, Idempotency-Key and request; a retry replays its response."""
    raw = await request.body()
    return await idempotency.run(
        principal.rate_key, key, fingerprint("POST", request.url.path, raw), produce
    )


async def run_order_once(
    request: Request,
    principal: Principal,
    key: str,
    idempotency: Idempotency,
    entry: IntakeEntry,
    produce: Callable[[bool | None], Awaitable[StoredResponse]],
) -> Response:
    """`run_once` for a new order: its intake-log entry is recorded with the claim of its key
    (one database round trip for both), and `produce` gets what the duplicate check found."""
    raw = await request.body()
    # scope["path"] is what `request.url.path` parses back out of a whole URL it builds first;
    # the two accepting routes' paths have nothing to escape, so the fingerprint is the same.
    return await idempotency.run_intake(
        principal.rate_key, key, fingerprint("POST", request.scope["path"], raw), entry, produce
    )
