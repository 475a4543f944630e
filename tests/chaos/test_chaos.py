"""Chaos, short version for CI: every fault once while orders flow, then the invariants.

A private stack (loadtest/stack.py: its own PostgreSQL, NATS, services and gateway on free ports
under `server_dir`) so that killing and restarting PostgreSQL or NATS touches nothing else of the
session. The seed is printed and kept in the failure message; rerun one with
`SURGE_CHAOS_SEED=<seed> uv run pytest tests/chaos`. `make chaos` is the long version.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import pytest

from loadtest.chaos import plan_faults, run_chaos
from loadtest.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e


def test_a_round_of_faults_covers_every_component_once() -> None:
    faults = plan_faults(random.Random(1), rounds=1)

    assert sorted(f for f in faults if f.startswith("kill:")) == sorted(
        f"kill:{name}" for name in (*SERVICES, "gateway")
    )
    assert {"restart:nats", "restart:postgres"} <= set(faults)
    assert sum(f.startswith("pause:") for f in faults) == 1
    assert plan_faults(random.Random(1), rounds=1) == faults  # the seed replays the run


def test_faults_while_orders_flow_lose_nothing_and_settle(tmp_path: Path, server_dir: Path) -> None:
    seed = int(os.environ.get("SURGE_CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    stack = Stack(server_dir / "stack")
    try:
        stack.start()
        result = asyncio.run(
            run_chaos(
                stack,
                seed=seed,
                rounds=1,
                rate=4,
                gap=1.0,
                pause_seconds=3,
                settle=60,
                out=tmp_path,
            )
        )
    finally:
        stack.stop()

    assert result.check is not None
    assert result.check.ok, f"seed {seed}: {result.check.violations[:20]}\n{stack.logs()}"
    assert not result.problems, f"seed {seed}: {result.problems} {result.evidence}"
    assert result.client.get("202", 0) > 0
