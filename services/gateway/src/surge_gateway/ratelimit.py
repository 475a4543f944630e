"""Per-principal rate limits with the `limits` library: 429 + Retry-After + RateLimit-* headers.

The limit for a principal comes from its role (`GatewaySettings.rate_limits`). Counters live in
process memory (a sliding-window counter per principal): each replica enforces the limit on its
own share of traffic, which keeps the check off the network on the hot path.

The counters are `limits`' in-memory storage with one change (`RateCounters`): expired counters
are swept every `SWEEP_SECONDS`, not on every hit. The library schedules a sweep of every
counter it holds on each hit, so a check cost O(principals seen in the last two windows):
0.12 ms with 64 of them, 2.5 ms with 10,000 (measured), more than the rest of an order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from surge_gateway.auth import Principal
from surge_gateway.metrics import GatewayMetrics
from surge_gateway.problems import ProblemError

__all__ = ["SWEEP_SECONDS", "RateCounters", "RateLimiter"]

SWEEP_SECONDS = 30.0


class RateCounters(MemoryStorage):
    """`limits`' async memory storage, with expired counters dropped when they are next
    touched (as `get` does) and in a sweep at most every `sweep_seconds`."""

    def __init__(self, sweep_seconds: float = SWEEP_SECONDS) -> None:
        super().__init__()
        self._sweep_seconds = sweep_seconds
        self._next_sweep = 0.0

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        if now >= self._next_sweep:
            self.sweep(now)
        if self.expirations.get(key, 0) <= now:
            self.storage.pop(key, None)
        # No await between the read and the write: no other task can interleave, so the
        # library's per-key lock is not needed.
        count = self.storage[key] = self.storage[key] + amount
        if count == amount:
            self.expirations[key] = now + expiry
        return count

    def sweep(self, now: float) -> None:
        for key in [key for key, expires in self.expirations.items() if expires <= now]:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)
        self._next_sweep = now + self._sweep_seconds


class RateLimiter:
    def __init__(self, limits: Mapping[str, str], metrics: GatewayMetrics) -> None:
        self._items: dict[str, list[RateLimitItem]] = {
            name: parse_many(spec) for name, spec in limits.items()
        }
        self.counters = RateCounters()
        self._limiter = SlidingWindowCounterRateLimiter(self.counters)
        self._metrics = metrics
        for name, items in self._items.items():
            tightest = min(items, key=lambda i: i.amount / i.get_expiry())
            metrics.rate_limit.labels(name).set(tightest.amount / tightest.get_expiry())

    async def check(self, request: Request, principal: Principal) -> None:
        """Count one request; raise 429 if any of the principal's limits is exhausted."""
        rate_class = principal.rate_class
        items = self._items.get(rate_class) or self._items["anonymous"]
        key = principal.rate_key
        headers: dict[str, str] = {}
        for item in items:
            allowed = await self._limiter.hit(item, key)
            stats = await self._limiter.get_window_stats(item, key)
            reset = max(0, math.ceil(stats.reset_time - time.time()))
            if not allowed:
                self._metrics.rate_limited.labels(rate_class).inc()
                raise ProblemError(
                    429,
                    f"Rate limit of {item.amount} per {item.get_expiry()} s exceeded.",
                    headers={
                        "Retry-After": str(max(1, reset)),
                        "RateLimit-Limit": str(item.amount),
                        "RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(max(1, reset)),
                    },
                )
            if not headers or stats.remaining < int(headers["RateLimit-Remaining"]):
                headers = {
                    "RateLimit-Limit": str(item.amount),
                    "RateLimit-Remaining": str(stats.remaining),
                    "RateLimit-Reset": str(reset),
                }
        request.state.rate_limit_headers = headers
