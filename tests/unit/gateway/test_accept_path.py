"""A new order's intake entry recorded by the claim of its Idempotency-Key (one round trip).

The PostgreSQL store does it in one statement (tests/integration/gateway); here a memory store
with the same contract checks the placer's side: it uses the claim's answer, records nothing
itself, and forgets the entry when the order is not placed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import grpc
from surge_gateway.idempotency import Claim, ClaimState, IntakeEntry, MemoryIdempotencyStore

from tests.unit.gateway.conftest import MakeGateway, idem, order_body
from tests.unit.gateway.fakes import MemoryIntakeLog, rpc_error


@dataclass
class CountingIntakeLog(MemoryIntakeLog):
    calls: int = 0

    async def record(
        self, channel: str, identity: str, phone_hash: str, skus: str, window: timedelta
    ) -> bool:
        self.calls += 1
        return await super().record(channel, identity, phone_hash, skus, window)


@dataclass
class ClaimingStore(MemoryIdempotencyStore):
    """Records the intake entry of a newly claimed key, as PgIdempotencyStore does."""

    log: MemoryIntakeLog = field(default_factory=MemoryIntakeLog)
    recorded: list[IntakeEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    async def claim(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        ttl: timedelta,
        lease: timedelta,
        intake: IntakeEntry | None = None,
    ) -> Claim:
        claim = await super().claim(scope, key, fingerprint, ttl, lease)
        if claim.state is not ClaimState.NEW or intake is None:
            return claim
        self.recorded.append(intake)
        duplicate = await self.log.record(
            intake.channel, intake.identity, intake.phone_hash, intake.skus, intake.window
        )
        return Claim(ClaimState.NEW, duplicate=duplicate)


async def test_the_claims_duplicate_check_is_used_and_not_repeated(
    make_gateway: MakeGateway,
) -> None:
    intake = CountingIntakeLog()
    store = ClaimingStore(log=intake)
    async with make_gateway(store=store, intake=intake) as gw:
        first = await gw.client.post(
            "/v1/orders", json=order_body(), headers={**gw.auth("customer"), **idem()}
        )
        key = idem()
        staff = order_body(channel="tmall", customer={**order_body()["customer"], "id": "bob"})
        second = await gw.client.post("/v1/orders", json=staff, headers={**gw.auth("admin"), **key})
        replay = await gw.client.post("/v1/orders", json=staff, headers={**gw.auth("admin"), **key})
    assert (first.status_code, second.status_code, replay.status_code) == (202, 202, 202)
    assert first.json()["tags"] == []
    assert second.json()["tags"] == ["possible_duplicate"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert [e.channel for e in store.recorded] == ["web", "tmall"]  # not again for the replay
    assert intake.calls == 2  # the claims' records only: the placer recorded nothing itself
    assert len(intake.rows) == 2


async def test_an_entry_recorded_by_the_claim_is_forgotten_when_the_order_fails(
    make_gateway: MakeGateway,
) -> None:
    intake = CountingIntakeLog()
    store = ClaimingStore(log=intake)
    async with make_gateway(store=store, intake=intake) as gw:
        gw.orders.fail = rpc_error(grpc.StatusCode.UNAVAILABLE)
        failed = await gw.client.post(
            "/v1/orders", json=order_body(), headers={**gw.auth("customer"), **idem()}
        )
        gw.orders.fail = None
        later = await gw.client.post(
            "/v1/orders",
            json=order_body(channel="jd"),
            headers={**gw.auth("customer"), **idem()},
        )
    assert failed.status_code == 503
    assert len(store.recorded) == 2
    # The failed order's entry is gone, so the next one is not flagged against it.
    assert later.status_code == 202
    assert later.json()["tags"] == []
    assert len(intake.rows) == 1
