"""Chaos: faults while orders flow, then the invariants, on a private stack (loadtest/stack.py).

    uv run python -m loadtest.chaos --seed 42 --rounds 2 --pause 10     # `make chaos`

Faults, in an order and at moments drawn from `--seed`: SIGKILL each service and the gateway and
restart it, kill and restart NATS, stop PostgreSQL immediately and restart it (same data
directory and ports), SIGSTOP a service for `--pause` seconds. Orders keep coming at `--rate`/s
(on account, and prepaid then paid) through the gateway; the client retries nothing, it only
records what was accepted. Afterwards every saga must reach a terminal state within
`--settle` seconds of the last restart, the checker's invariants must hold, and the faults must
have caused at least one redelivery, step resend or compensation (the load itself cancels
nothing, so any compensation is the faults' doing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from loadtest import checker
from loadtest.common import (
    Buyer,
    Ledger,
    Manifest,
    Tokens,
    address,
    clear_run_files,
    read_ledger,
    say,
)
from loadtest.sampler import MetricsSampler
from loadtest.setup import prepare
from loadtest.stack import SERVICES, Stack

__all__ = ["ChaosResult", "main", "plan_faults", "run_chaos"]

KILLABLE = (*SERVICES, "gateway")


@dataclass
class ChaosResult:
    seed: int
    faults: list[str] = field(default_factory=list)
    check: checker.CheckResult | None = None
    evidence: dict[str, float] = field(default_factory=dict)
    client: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.check is not None and self.check.ok


def plan_faults(rng: random.Random, rounds: int) -> list[str]:
    """Each round: every service killed once, NATS, PostgreSQL and one pause, shuffled."""
    faults: list[str] = []
    for _ in range(rounds):
        kinds = [f"kill:{name}" for name in KILLABLE]
        kinds += ["restart:nats", "restart:postgres", f"pause:{rng.choice(SERVICES)}"]
        rng.shuffle(kinds)
        faults += kinds
    return faults


class Load:
    """Orders at a steady rate through the gateway until stopped; outcomes into the ledger."""

    def __init__(self, host: str, tokens: Tokens, manifest: Manifest, ledger: Ledger) -> None:
        self.host, self.tokens, self.manifest, self.ledger = host, tokens, manifest, ledger
        self.outcomes: dict[str, int] = {}
        self.stopping = asyncio.Event()

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    async def one(self, http: httpx.AsyncClient, rng: random.Random) -> None:
        buyer = Buyer.new(self.manifest.run_id, "chaos")
        auth = self.tokens.header("customer", buyer.id)
        prepaid = rng.random() < 0.3
        sku = rng.choice(self.manifest.shop_skus)
        body = {
            "customer": {"name": buyer.name, "phone": buyer.phone},
            "shipping_address": address("chaos"),
            "lines": [{"sku": sku, "quantity": rng.randint(1, 2)}],
            "payment_terms": "prepaid" if prepaid else "on_account",
        }
        try:
            reply = await http.post(
                "/v1/orders", json=body, headers={**auth, "Idempotency-Key": uuid.uuid4().hex}
            )
        except httpx.HTTPError:
            self.count("transport_error")
            return
        self.count(str(reply.status_code))
        if reply.status_code not in (200, 202):
            return
        order = reply.json()
        self.ledger.record(
            "accepted",
            order["id"],
            kind="chaos",
            customer=buyer.id,
            sku=sku,
            terms=body["payment_terms"],
        )
        if prepaid:
            await self.pay(http, auth, order["id"])

    async def pay(self, http: httpx.AsyncClient, auth: dict[str, str], order_id: str) -> None:
        for _ in range(40):
            try:
                got = await http.get(f"/v1/orders/{order_id}", headers=auth)
                if got.status_code == 200 and got.json()["status"] == "pending_payment":
                    total = got.json()["total"]
                    paid = await http.post(
                        f"/v1/orders/{order_id}/payments",
                        json={"amount": total, "method": "alipay", "reference": uuid.uuid4().hex},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                    )
                    if paid.status_code == 200:
                        self.ledger.record("paid", order_id)
                        return
                elif got.status_code == 200 and got.json()["status"] != "reserving":
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)

    async def run(self, rate: float, seed: int) -> None:
        rng = random.Random(seed)
        tasks: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(base_url=self.host, timeout=10) as http:
            next_at = time.monotonic()
            while not self.stopping.is_set():
                task = asyncio.create_task(self.one(http, rng))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                next_at += 1 / rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if tasks:
                await asyncio.wait(tasks, timeout=30)


async def _apply(stack: Stack, fault: str, pause_seconds: float, rng: random.Random) -> None:
    kind, name = fault.split(":")
    if kind == "pause":
        await asyncio.to_thread(stack.pause, name, pause_seconds)
        return
    await asyncio.to_thread(stack.kill, name)
    await asyncio.sleep(rng.uniform(0.2, 1.5))  # down for a moment, as a crash-looping pod is
    await asyncio.to_thread(stack.revive, name)


async def run_chaos(
    stack: Stack,
    *,
    seed: int,
    rounds: int = 1,
    rate: float = 5,
    gap: float = 3,
    pause_seconds: float = 10,
    settle: float = 60,
    out: Path,
) -> ChaosResult:
    rng = random.Random(seed)
    began = time.monotonic()
    result = ChaosResult(seed=seed, faults=plan_faults(rng, rounds))
    tokens = Tokens(stack.key_dir)
    manifest = await asyncio.to_thread(
        prepare, stack.host, tokens, channel_keys={"tmall": stack.channel_key}
    )
    manifest.save(out / "manifest.json")
    clear_run_files(out)
    ledger = Ledger(out / "ledger.jsonl")
    sampler = MetricsSampler(stack.metrics_urls(), out / "samples.csv", interval=1)
    sampler.start()
    load = Load(stack.host, tokens, manifest, ledger)
    flowing = asyncio.create_task(load.run(rate, seed))
    try:
        await asyncio.sleep(gap)
        for fault in result.faults:
            # A random moment within the gap: faults hit mid-step, not on a beat.
            await asyncio.sleep(rng.uniform(0.3, gap))
            say(f"chaos: {fault} at {time.monotonic() - began:.0f}s")
            await _apply(stack, fault, pause_seconds, rng)
        last_restart = time.monotonic()
        await asyncio.sleep(gap)
    finally:
        load.stopping.set()
        await flowing
        ledger.close()
    say(f"chaos: last restart at {last_restart - began:.0f}s; checking")
    left = max(5.0, settle - (time.monotonic() - last_restart))
    result.check = await checker.check(
        stack.host, tokens, manifest, read_ledger(out / "ledger.jsonl"), drain_seconds=left
    )
    sampler.stop()
    result.client = load.outcomes
    result.evidence = {
        **{
            k: sampler.totals[k]
            for k in ("redeliveries", "repeated_deliveries", "step_resends", "compensations")
        },
        "resent_steps_seen_in_sagas": float(result.check.stats.get("resent_steps", 0)),
        "compensated_sagas": float(result.check.stats.get("compensated", 0)),
    }
    if not any(result.evidence.values()):
        result.problems.append("the faults caused no redelivery, resend or compensation at all")
    if result.client.get("202", 0) == 0:
        result.problems.append("no order was accepted during the run")
    summary: dict[str, Any] = {
        "seed": seed,
        "faults": result.faults,
        "client": result.client,
        "evidence": result.evidence,
        "problems": result.problems,
        "checker": result.check.stats,
        "violations": result.check.violations,
    }
    (out / "chaos.json").write_text(json.dumps(summary, indent=2, default=str))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=8)
    parser.add_argument("--gap", type=float, default=5)
    parser.add_argument("--pause", type=float, default=10)
    parser.add_argument("--settle", type=float, default=60)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    out = args.out or Path(tempfile.mkdtemp(prefix="surge-chaos-"))
    out.mkdir(parents=True, exist_ok=True)
    say(f"chaos: seed {seed}, report in {out}")
    stack = Stack(out / "stack")
    began = time.monotonic()
    try:
        stack.start()
        say(f"chaos: stack up in {time.monotonic() - began:.0f}s")
        result = asyncio.run(
            run_chaos(
                stack,
                seed=seed,
                rounds=args.rounds,
                rate=args.rate,
                gap=args.gap,
                pause_seconds=args.pause,
                settle=args.settle,
                out=out,
            )
        )
    finally:
        stack.stop()
    assert result.check is not None
    say(checker.report(result.check))
    say(f"chaos: {time.monotonic() - began:.0f}s in all")
    say(f"seed {seed}; client outcomes {result.client}; evidence {result.evidence}")
    for problem in result.problems:
        say(f"  PROBLEM {problem}")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
