"""`make bench`: Double 11 capacity of the local stack (`make up`), in three figures.

1. Step ramp (`--step` users more every `--step-seconds`): per step, accepted orders/s and the
   exact p99 of accepted placements; the sustained rate is the best step whose p99 < 300 ms.
2. Completed-saga throughput during the ramp (orders reaching `awaiting_shipment`, from the
   order service's /metrics), best 10-second window.
3. A 10x spike over `--spike-rate` (default: a quarter of the sustained rate, or of the best
   accepted rate when no step kept p99 under 300 ms): seconds from the
   end of the spike until the backlog is back at its pre-spike level.
Both runs are followed by the invariant checker. Reports go to reports/bench/<time>/.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from loadtest import run as loadrun
from loadtest.common import say

__all__ = ["main", "steps"]

P99_LIMIT_MS = 300.0


def _latencies(path: Path) -> list[tuple[float, float]]:
    if not path.exists():
        return []
    rows = (line.split(",") for line in path.read_text().splitlines() if line)
    return [(float(t), float(ms)) for t, ms in rows]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def steps(outcome: loadrun.Outcome, step: int, seconds: float) -> list[dict[str, Any]]:
    """Per step: users, accepted/s and p99 (ms), skipping each step's first quarter (ramp)."""
    latencies = _latencies(outcome.out / "client_latencies.csv")
    if not outcome.points or not latencies:
        return []
    began = float(outcome.summary["load_started_at"])
    found = []
    level = 0
    while True:
        lo, hi = level * seconds + seconds / 4, (level + 1) * seconds
        window = [p for p in outcome.points if lo <= p.t < hi]
        if not window:
            break
        ms = sorted(v for t, v in latencies if lo <= t - began < hi)
        found.append(
            {
                "users": step * (level + 1),
                "accepted_per_s": round(sum(p.accepted for p in window) / len(window), 1),
                "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 1) if ms else None,
                "shed_share": round(max(p.shed_share for p in window), 3),
            }
        )
        level += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=5)
    parser.add_argument("--step-seconds", type=float, default=20)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--spike-rate", type=int, default=None)
    parser.add_argument("--spike-seconds", type=float, default=90)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path("reports") / "bench" / time.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()

    ramp = loadrun.run(
        loadrun.parser().parse_args(
            [
                "--shape=step",
                f"--step={args.step}",
                f"--step-seconds={args.step_seconds}",
                f"--duration={args.steps * args.step_seconds}",
                f"--out={out / 'step'}",
            ]
        )
    )
    table = steps(ramp, args.step, args.step_seconds)
    good = [s for s in table if s["p99_ms"] is not None and s["p99_ms"] < P99_LIMIT_MS]
    sustained = max((s["accepted_per_s"] for s in good), default=0.0)
    # Without a step under 300 ms, the spike starts from a quarter of the best accepted rate.
    best = sustained or max((s["accepted_per_s"] for s in table), default=0.0)
    spike_rate = args.spike_rate or max(1, round(best / 4))
    spike = loadrun.run(
        loadrun.parser().parse_args(
            [
                "--shape=spike",
                f"--rate={spike_rate}",
                f"--duration={args.spike_seconds}",
                f"--out={out / 'spike'}",
            ]
        )
    )
    figures = {
        "machine": f"{os.cpu_count()} cores, load average {load_before[0]:.1f} before the run",
        "steps": table,
        "sustained_orders_per_s_p99_under_300ms": sustained,
        "completed_sagas_per_s_best_10s": ramp.summary["completed_sagas_per_s_peak_10s"],
        "spike": {
            "baseline_users": spike_rate,
            "peak_users": spike_rate * 10,
            "accepted_per_s_peak_10s": spike.summary["accepted_per_s_peak_10s"],
            "shed_share_max": spike.summary["shed_share_max"],
            "errors_5xx": spike.summary["errors_5xx"],
            "backlog_peak": spike.summary["backlog_peak"],
            "drain_seconds_after_spike": _round(spike.summary.get("spike_drain_seconds")),
        },
        "invariants": {
            "step": ramp.check.ok if ramp.check else None,
            "spike": spike.check.ok if spike.check else None,
            "violations": (ramp.check.violations if ramp.check else [])
            + (spike.check.violations if spike.check else []),
        },
    }
    (out / "bench.json").write_text(json.dumps(figures, indent=2, default=str))
    say(f"machine: {figures['machine']}")
    say("step ramp (users ~ offered orders/s):")
    for s in table:
        say(
            f"  {s['users']:4d} users  {s['accepted_per_s']:7.1f} accepted/s  "
            f"p99 {s['p99_ms']} ms  shed max {100 * s['shed_share']:.0f}%"
        )
    if good:
        say(f"sustained orders/s with accept p99 < 300 ms: {sustained:.1f}")
    else:
        first = table[0]["p99_ms"] if table else None
        say(f"sustained orders/s with accept p99 < 300 ms: none (p99 {first} ms at the first step)")
    say(f"completed sagas/s (best 10 s):              {figures['completed_sagas_per_s_best_10s']}")
    spiked = figures["spike"]
    say(
        f"10x spike {spike_rate} -> {spike_rate * 10} users: drain "
        f"{spiked['drain_seconds_after_spike']} s after the spike, backlog peak "
        f"{spiked['backlog_peak']}, shed max {spiked['shed_share_max']}, 5xx {spiked['errors_5xx']}"
    )
    if figures["invariants"]["violations"]:
        say(f"invariant violations: {figures['invariants']['violations'][:10]}")
    say(f"report: {out}")


if __name__ == "__main__":
    main()
