"""Admission control for new orders: shed early with 503 + Retry-After, never time out.

New orders are placed through a concurrency limit that adapts to their latency. By Little's
law the accept latency is the number of orders in flight divided by the throughput of the
order path, so bounding what is in flight is what keeps latency down: the previous controller
shed a share of orders in proportion to the mean latency of the last two seconds but let up
to 256 in flight, and at 64 clients the order service queued them all (accepted p99 10 s).

The limit is revised once per generation: the orders admitted since the last revision, once
enough of them finished (at least four, or half the limit). If their mean latency passed
`max_latency`, the limit is scaled by `max_latency / mean` (what Little's law says would have
met it, at most halving it); if not, and the limit was reached, it grows (doubling until the
first cut, then by one). Means of a generation, not single orders, so one slow order on a busy
machine does not cut the limit; only orders admitted after the last revision count, so a queue
of orders admitted under an old limit is not counted twice. The limit never passes
`max_in_flight` and cuts stop at four (`_MIN_LIMIT`); an order over it gets 503 before any
database work.

Orders also queue before they reach a slot: between the precheck and the slot each one is
validated and claims its Idempotency-Key through the gateway's connection pool, and most of a
herd is then refused at the slot and releases the key again. In a herd (2,000 buyers in the
first second of a flash sale) all of them passed the precheck before the first reached a slot
(measured: 1,000 clients, accepted orders' p50 6.9 s while the gateway averaged under half a
core; flash sale accept p99 6-8 s in the median second). So `entered` counts the new orders
inside the app from the front door (`surge_gateway.shed`) to their answer, and more than
`2 * limit + 8` of them sheds the next ("queue"): room for the orders at the limit, as many
claiming or completing, and a few more. A repeat of an Idempotency-Key already inside is not
shed for that: it waits for the first and gets its answer, as the idempotency contract says.

Shedding only helps when latency comes from queueing. When even an unqueued order takes longer
than `max_latency` (a starved CPU, a slow disk), cutting to one order in flight would throw
away throughput without making anything faster; so a generation only counts as slow when its
mean was also twice the floor, the fastest generation mean of the last ten to twenty seconds.
Reads and payments do not go through this gate.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque

from surge_gateway.metrics import GatewayMetrics
from surge_gateway.problems import ProblemError

__all__ = ["AdmissionController"]

_GENERATION = 4  # orders at least, and half the limit, per revision of the limit
_MAX_CUT = 0.5  # a revision at most halves the limit
# Cuts stop here (or at max_in_flight). Clients that ignore Retry-After make the gateway spend
# its loop on 503s, which slows the admitted orders too; cutting further then only adds 503s
# (measured: 4 accepted/s instead of 17 at 192 such clients). 4 in flight at the 0.25 s bound
# still means 16 orders/s.
_MIN_LIMIT = 4.0
_QUEUEING = 2.0  # slow means this many times the floor, as well as over max_latency
_FLOOR_PERIOD = 10.0  # seconds: the floor is the fastest generation of this period and the last
_ENTRY_ROOM = 8  # orders inside the app beyond twice the limit before the next is shed


class AdmissionController:
    def __init__(
        self,
        *,
        max_in_flight: int,
        max_latency: float,
        retry_after: int,
        metrics: GatewayMetrics,
        initial_limit: int = 8,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.max_latency = max_latency
        self.retry_after = retry_after
        self.limit = float(max(1, min(initial_limit, max_in_flight)))
        self.in_flight = 0
        self.entered = 0  # new orders inside the app (counted by surge_gateway.shed)
        self._generation_start = -math.inf  # orders admitted before it count no more
        self._latencies = 0.0  # of this generation's finished orders
        self._finished = 0
        self._reached = False  # an order of this generation was admitted at the limit
        self._slow_start = True
        self._floor = (math.inf, math.inf)  # fastest generation of (the last period, this one)
        self._period_end = -math.inf
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._metrics = metrics
        metrics.admission_max_in_flight.set(max_in_flight)
        metrics.admission_max_latency.set(max_latency)
        metrics.admission_limit.set(self.limit)

    def floor(self, latency: float, now: float) -> float:
        """Note one generation's mean latency; the fastest of this period and the last."""
        last, current = self._floor
        if now >= self._period_end + _FLOOR_PERIOD:  # both periods are over: forget them
            last, current = math.inf, latency
            self._period_end = now + _FLOOR_PERIOD
        elif now >= self._period_end:
            last, current = current, latency
            self._period_end = now + _FLOOR_PERIOD
        else:
            current = min(current, latency)
        self._floor = (last, current)
        return min(last, current)

    def record(self, started: float, finished: float, *, binding: bool) -> None:
        """Count one finished order (`binding`: it was admitted at the limit) and revise the
        limit when its generation is complete."""
        if started < self._generation_start:
            return
        self._latencies += finished - started
        self._finished += 1
        self._reached = self._reached or binding
        if self._finished < max(_GENERATION, self.limit / 2):
            return
        mean = self._latencies / self._finished
        floor = self.floor(mean, finished)
        if mean > max(self.max_latency, _QUEUEING * floor):
            lowest = min(_MIN_LIMIT, float(self.max_in_flight))
            cut = self.limit * max(_MAX_CUT, self.max_latency / mean)
            self.limit = max(min(lowest, self.limit), cut)
            self._slow_start = False
        elif self._reached:
            step = self.limit if self._slow_start else 1.0
            self.limit = min(float(self.max_in_flight), self.limit + step)
        self._generation_start = finished
        self._latencies, self._finished, self._reached = 0.0, 0, False
        self._metrics.admission_limit.set(self.limit)

    def shed(self, reason: str) -> ProblemError:
        """Count one new order refused for `reason` and return its 503."""
        self._metrics.shed.labels(reason).inc()
        return ProblemError(
            503,
            "The order service is at capacity; retry shortly.",
            headers={"Retry-After": str(self.retry_after)},
        )

    def refusal(self) -> str | None:
        """Why a new order arriving now would be shed (the metric's reason), or None."""
        if self.in_flight >= self.max_in_flight:
            return "in_flight"
        if self.in_flight >= self.limit or self._waiters:
            return "latency"
        return None

    def crowded(self) -> bool:
        """Too many new orders inside the app (`entered`, counted by `surge_gateway.shed`)."""
        return self.entered > 2 * self.limit + _ENTRY_ROOM

    def precheck(self) -> None:
        """Raise 503 if a bound is passed (cheap; call before doing any work for a new order)."""
        reason = self.refusal()
        if reason is not None:
            raise self.shed(reason)

    async def _take_slot(self) -> None:
        """A slot now, or the next one to come free within half the latency bound.

        Between `precheck` and here the caller claimed its Idempotency-Key (a round trip), and
        orders that passed the precheck meanwhile may have taken the last slot. Shedding
        those here would cost a second round trip to release the key, so they wait briefly
        instead; `precheck` sheds everything new while anyone waits, which bounds the queue.
        """
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        if self.in_flight >= self.max_in_flight:
            raise self.shed("in_flight")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait([waiter], timeout=self.max_latency / 2)
        except BaseException:
            self._give_up(waiter)
            raise
        if not waiter.done():
            self._give_up(waiter)
            raise self.shed("latency")

    def _give_up(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done():  # the slot was handed over already: hand it on
            self._free_slot()
        else:
            waiter.cancel()
            self._waiters.remove(waiter)

    def _free_slot(self) -> None:
        """Hand the slot to the first waiter while the limit allows, else free it."""
        if self._waiters and self.in_flight <= self.limit:
            self._waiters.popleft().set_result(None)
        else:
            self.in_flight -= 1

    def admit(self) -> _Admission:
        """Hold a slot for one order being placed, or raise 503 if a bound is passed:
        `async with controller.admit(): ...`."""
        return _Admission(self)


class _Admission:
    """One order's slot. (A class, not @asynccontextmanager: this runs on every order.)"""

    __slots__ = ("_binding", "_controller", "_started")

    def __init__(self, controller: AdmissionController) -> None:
        self._controller = controller
        self._binding = False
        self._started = 0.0

    async def __aenter__(self) -> None:
        controller = self._controller
        await controller._take_slot()
        self._binding = controller.in_flight + 1 > controller.limit
        controller._metrics.place_order_in_flight.set(controller.in_flight)
        self._started = time.monotonic()

    async def __aexit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        controller = self._controller
        controller._free_slot()
        controller._metrics.place_order_in_flight.set(controller.in_flight)
        controller.record(self._started, time.monotonic(), binding=self._binding)
