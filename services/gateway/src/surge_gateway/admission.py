"""Admission control for new orders: shed early with 503 + Retry-After, never time out.

New orders are refused when PlaceOrder calls in flight pass their bound, and, in proportion,
when the mean PlaceOrder latency over the last `window` seconds passes its bound: at twice the
bound half of new orders are shed, at four times three quarters. Shedding everything at the
bound instead (the first version) made the gateway flap between 0 % and 100 % shed under a
spike: the window emptied, every waiting client came back at once, latency jumped again. The
orders still admitted keep the latency samples fresh, so the shed share follows the load down.
Reads and payments do not go through this gate.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from surge_gateway.metrics import GatewayMetrics
from surge_gateway.problems import ProblemError

__all__ = ["AdmissionController"]


class AdmissionController:
    def __init__(
        self,
        *,
        max_in_flight: int,
        max_latency: float,
        window: float,
        retry_after: int,
        metrics: GatewayMetrics,
        chance: Callable[[], float] = random.random,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.max_latency = max_latency
        self.window = window
        self.retry_after = retry_after
        self.in_flight = 0
        self._samples: deque[tuple[float, float]] = deque(maxlen=4096)
        self._sum = 0.0
        self._metrics = metrics
        self._chance = chance
        metrics.admission_max_in_flight.set(max_in_flight)
        metrics.admission_max_latency.set(max_latency)

    def recent_latency(self, now: float | None = None) -> float:
        """Mean PlaceOrder latency over the window; 0 when nothing finished in it."""
        now = time.monotonic() if now is None else now
        horizon = now - self.window
        while self._samples and self._samples[0][0] < horizon:
            self._sum -= self._samples.popleft()[1]
        if not self._samples:
            self._sum = 0.0
            return 0.0
        return self._sum / len(self._samples)

    def record(self, seconds: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._samples) == self._samples.maxlen:
            self._sum -= self._samples[0][1]
        self._samples.append((now, seconds))
        self._sum += seconds

    def _shed(self, reason: str) -> ProblemError:
        self._metrics.shed.labels(reason).inc()
        return ProblemError(
            503,
            "The order service is at capacity; retry shortly.",
            headers={"Retry-After": str(self.retry_after)},
        )

    def precheck(self) -> None:
        """Raise 503 if a bound is passed (cheap; call before doing any work for a new order)."""
        if self.in_flight >= self.max_in_flight:
            raise self._shed("in_flight")
        latency = self.recent_latency()
        if latency > self.max_latency and self._chance() >= self.max_latency / latency:
            raise self._shed("latency")

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold a slot for one PlaceOrder call, or raise 503 if a bound is passed."""
        self.precheck()
        self.in_flight += 1
        self._metrics.place_order_in_flight.set(self.in_flight)
        started = time.monotonic()
        try:
            yield
        finally:
            self.in_flight -= 1
            self._metrics.place_order_in_flight.set(self.in_flight)
            self.record(time.monotonic() - started)
