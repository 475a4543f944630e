"""`Idempotency-Key` semantics, over a store shared by every gateway replica (PostgreSQL).

- same key, same request (method, path, body) -> the first response replayed, with
  `Idempotent-Replayed: true`;
- same key, different request -> 422;
- same key while the first request is still being handled -> the repeat waits up to
  `wait` seconds for the first to finish and then replays it; if it is still running, 409.
- Only successful (2xx) responses are kept: after an error the key is released so the client
  can retry. Keys are kept `ttl` (>= 24 h); a key whose handler died holds for `lease`.

The keys are scoped by principal, so two clients can never see each other's responses.

A new order also has an intake-log entry (possible-duplicate check, `intake.py`) that is
written exactly when its key is claimed: `run_intake` hands it to the store's claim, and a
store that can write it in the same round trip (PostgreSQL: one statement) says what the
check found; one that cannot leaves `Claim.duplicate` None and the placer records it itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from fastapi import Response

from surge_gateway.metrics import GatewayMetrics
from surge_gateway.problems import ProblemError

__all__ = [
    "Claim",
    "ClaimState",
    "Idempotency",
    "IdempotencyStore",
    "IntakeEntry",
    "MemoryIdempotencyStore",
    "StoredResponse",
    "fingerprint",
]

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def to_response(self, *, replayed: bool) -> Response:
        headers = dict(self.headers)
        if replayed:
            headers[REPLAYED_HEADER] = "true"
        return Response(
            content=self.body,
            status_code=self.status,
            headers=headers,
            media_type="application/json",
        )


class ClaimState(StrEnum):
    NEW = "new"  # the caller now owns the key and must complete() or release() it
    DONE = "done"  # a stored response exists for the same request
    MISMATCH = "mismatch"  # the key was used for a different request
    IN_FLIGHT = "in_flight"  # another request with this key is being handled


@dataclass(frozen=True)
class IntakeEntry:
    """A new order's intake-log entry (`IntakeLog.record`'s arguments)."""

    channel: str
    identity: str
    phone_hash: str
    skus: str
    window: timedelta


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    response: StoredResponse | None = None
    # NEW with an IntakeEntry: whether the intake log found a possible duplicate, or None
    # when this store did not record the entry (the caller records it).
    duplicate: bool | None = None


class IdempotencyStore(Protocol):
    async def claim(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        ttl: timedelta,
        lease: timedelta,
        intake: IntakeEntry | None = None,
    ) -> Claim: ...

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None: ...

    async def release(self, scope: str, key: str) -> None: ...


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method.upper()} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


class Idempotency:
    """Runs a handler at most once per (scope, key) and replays its response."""

    def __init__(
        self,
        store: IdempotencyStore,
        metrics: GatewayMetrics,
        *,
        ttl: timedelta,
        lease: timedelta,
        wait: float,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._ttl = ttl
        self._lease = lease
        self._wait = wait
        self._local: dict[tuple[str, str], asyncio.Event] = {}

    async def run(
        self,
        scope: str,
        key: str,
        request_fingerprint: str,
        produce: Callable[[], Awaitable[StoredResponse]],
    ) -> Response:
        async def ignore_intake(duplicate: bool | None) -> StoredResponse:
            return await produce()

        return await self.run_intake(scope, key, request_fingerprint, None, ignore_intake)

    async def run_intake(
        self,
        scope: str,
        key: str,
        request_fingerprint: str,
        intake: IntakeEntry | None,
        produce: Callable[[bool | None], Awaitable[StoredResponse]],
    ) -> Response:
        """`run`, for a new order: `intake` is recorded with the claim when the store can, and
        `produce` gets `Claim.duplicate` (None: not recorded)."""
        deadline = time.monotonic() + self._wait
        slot = (scope, key)
        while True:
            claim = await self._store.claim(
                scope, key, request_fingerprint, self._ttl, self._lease, intake
            )
            if claim.state is ClaimState.NEW:
                return await self._produce(slot, functools.partial(produce, claim.duplicate))
            if claim.state is ClaimState.DONE and claim.response is not None:
                self._metrics.idempotent_replays.inc()
                return claim.response.to_response(replayed=True)
            if claim.state is ClaimState.MISMATCH:
                self._metrics.idempotency_conflicts.labels("mismatch").inc()
                raise ProblemError(
                    422, "This Idempotency-Key was already used with a different request."
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._metrics.idempotency_conflicts.labels("in_flight").inc()
                raise ProblemError(
                    409,
                    "A request with this Idempotency-Key is still being processed.",
                    headers={"Retry-After": "1"},
                )
            # Woken at once by a request in this replica; polls for one in another replica.
            event = self._local.get(slot)
            if event is None:
                await asyncio.sleep(min(remaining, 0.05))
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=min(remaining, 0.25))

    async def _produce(
        self, slot: tuple[str, str], produce: Callable[[], Awaitable[StoredResponse]]
    ) -> Response:
        event = self._local.setdefault(slot, asyncio.Event())
        try:
            try:
                response = await produce()
            except BaseException:
                await asyncio.shield(self._store.release(*slot))
                raise
            if 200 <= response.status < 300:
                await self._store.complete(*slot, response)
            else:
                await self._store.release(*slot)
            return response.to_response(replayed=False)
        finally:
            event.set()
            if self._local.get(slot) is event:
                del self._local[slot]


@dataclass
class _Row:
    fingerprint: str
    expires_at: float
    locked_until: float
    response: StoredResponse | None = None


class MemoryIdempotencyStore:
    """The store semantics in process memory: for unit tests and single-process demos."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], _Row] = {}

    async def claim(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        ttl: timedelta,
        lease: timedelta,
        intake: IntakeEntry | None = None,
    ) -> Claim:
        now = time.monotonic()
        row = self.rows.get((scope, key))
        abandoned = (
            row is not None
            and row.response is None
            and row.locked_until < now
            and row.fingerprint == fingerprint
        )
        if row is None or row.expires_at < now or abandoned:
            self.rows[(scope, key)] = _Row(
                fingerprint, now + ttl.total_seconds(), now + lease.total_seconds()
            )
            return Claim(ClaimState.NEW)
        if row.fingerprint != fingerprint:
            return Claim(ClaimState.MISMATCH)
        if row.response is None:
            return Claim(ClaimState.IN_FLIGHT)
        return Claim(ClaimState.DONE, row.response)

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        self.rows[(scope, key)].response = response

    async def release(self, scope: str, key: str) -> None:
        self.rows.pop((scope, key), None)
