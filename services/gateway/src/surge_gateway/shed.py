"""Shed new orders before routing while admission control refuses them.

In a herd (the first second of a flash sale, three times the load the stack can take) most new
orders are refused, and the event loop that refuses them is the one the admitted orders wait
on. Refused through FastAPI (routing, authentication, the rate limit, the dependency's
precheck, the problem handler) a new order cost the gateway 0.72 ms of CPU; refused here,
0.17 ms (`bench/gateway_app.py --requests 3000 --runs 3 --shed`, medians).

It also counts the new orders inside the app (`AdmissionController.entered`) and sheds past
`crowded()`: an order claiming its Idempotency-Key is not yet in flight, and a herd would
otherwise queue there unbounded (admission.py says more). A repeat of a key that is inside is
let through: the idempotency contract answers every repeat with the first's response.

The answer is admission control's own: 503 problem+json with Retry-After, counted in
`surge_gateway_shed_total` and under the route's template in the request metrics. It comes
before authentication, so while the gateway sheds, a POST without valid credentials also gets
503, not 401: it learns only that the gateway is busy, as from a load balancer in front of it.
The precheck in the route's dependency stays, for orders that pass here and find the limit
reached by the time they are authenticated.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from surge_gateway.admission import AdmissionController
from surge_gateway.auth import api_routes
from surge_gateway.problems import error_response

__all__ = ["ShedNewOrders"]


def _idempotency_key(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"idempotency-key":
            return value
    return None


class ShedNewOrders:
    """A pure-ASGI layer in front of the routes named in `paths` (POST only)."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute], paths: Iterable[str]) -> None:
        self.app = app
        wanted = set(paths)
        self._routes = [
            r for r in api_routes(routes) if r.path in wanted and "POST" in (r.methods or ())
        ]
        if {r.path for r in self._routes} != wanted:
            raise ValueError(f"no POST route for {sorted(wanted - {r.path for r in self._routes})}")
        # Idempotency-Key values of the new orders inside, with how many carry each: a repeat
        # of one waits for the first instead of adding to the queue.
        self._keys_inside: dict[bytes, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (
            self._route_of(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        admission: AdmissionController | None = (
            getattr(scope["app"].state, "admission", None) if route is not None else None
        )
        if route is None or admission is None:
            await self.app(scope, receive, send)
            return
        # Counted before the check, so that the bound includes this order.
        admission.entered += 1
        key = _idempotency_key(scope["headers"])
        repeat = key is not None and key in self._keys_inside
        if key is not None:
            self._keys_inside[key] = self._keys_inside.get(key, 0) + 1
        try:
            reason = admission.refusal()
            if reason is None and not repeat and admission.crowded():
                reason = "queue"
            if reason is None:
                await self.app(scope, receive, send)
                return
            scope["route"] = route  # the request metrics label it by its template
            await error_response(admission.shed(reason), scope["path"])(scope, receive, send)
        finally:
            admission.entered -= 1
            if key is not None:
                left = self._keys_inside.pop(key) - 1
                if left:
                    self._keys_inside[key] = left

    def _route_of(self, path: str) -> APIRoute | None:
        for route in self._routes:
            if route.path_regex.match(path):
                return route
        return None
