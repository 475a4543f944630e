"""`make loadtest`: set up, run Locust headless with a shape, sample metrics, chart, check.

    uv run python -m loadtest.run --shape spike --duration 120 --rate 10
    uv run python -m loadtest.run --scenario flash --shape flash --flash-buyers 2000
    uv run python -m loadtest.run --host https://surge.example --token "$ADMIN_TOKEN"

Writes `--out` (default reports/loadtest/<time>-<shape>/): locust.html, locust_*.csv,
client.csv (per second, from the users), samples.csv (metrics), timeseries.csv, chart.png,
checker.txt and summary.json. Exits 1 when the invariant checker finds a violation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest import checker, report
from loadtest.common import (
    Tokens,
    clear_run_files,
    default_host,
    default_key_dir,
    read_ledger,
    say,
)
from loadtest.plan import spike_plan
from loadtest.sampler import MetricsSampler, devstack_metrics_urls, reachable
from loadtest.setup import channel_key_from_stack, prepare

__all__ = ["Outcome", "main", "parser", "run"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    out: Path
    summary: dict[str, Any]
    points: list[report.Point]
    check: checker.CheckResult | None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", choices=["steady", "spike", "step", "flash"], default="steady")
    p.add_argument("--scenario", choices=["mixed", "shop", "webhook", "flash"], default="mixed")
    p.add_argument("--duration", type=float, default=60, help="seconds of load")
    p.add_argument("--rate", type=int, default=10, help="baseline users (~orders/s)")
    p.add_argument("--spike-factor", type=float, default=10)
    p.add_argument("--step", type=int, default=5, help="step shape: users added per step")
    p.add_argument("--step-seconds", type=float, default=20)
    p.add_argument("--flash-buyers", type=int, default=2000)
    p.add_argument("--flash-stock", type=int, default=100)
    p.add_argument("--flash-limit", type=int, default=2)
    p.add_argument("--host", default=os.environ.get("HOST") or default_host())
    p.add_argument("--token", default=os.environ.get("TOKEN") or None, help="admin token")
    p.add_argument("--key-dir", type=Path, default=default_key_dir())
    p.add_argument("--channel-key", default=os.environ.get("LOADTEST_CHANNEL_KEY"))
    p.add_argument("--metrics", nargs="*", default=None, help="/metrics URLs to sample")
    p.add_argument("--drain-seconds", type=float, default=180)
    p.add_argument("--no-check", action="store_true", help="skip the invariant checker")
    p.add_argument("--out", type=Path, default=None)
    return p


def _env(args: argparse.Namespace, out: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "LOADTEST_SHAPE": args.shape,
        "LOADTEST_SCENARIO": args.scenario,
        "LOADTEST_DURATION": str(args.duration),
        "LOADTEST_RATE": str(args.rate),
        "LOADTEST_SPIKE_FACTOR": str(args.spike_factor),
        "LOADTEST_STEP": str(args.step),
        "LOADTEST_STEP_SECONDS": str(args.step_seconds),
        "LOADTEST_FLASH_BUYERS": str(args.flash_buyers),
        "LOADTEST_MANIFEST": str(out / "manifest.json"),
        "LOADTEST_LEDGER": str(out / "ledger.jsonl"),
        "LOADTEST_CLIENT_CSV": str(out / "client.csv"),
        "LOADTEST_TOKEN": args.token or "",
        "LOADTEST_KEY_DIR": str(args.key_dir),
    }


def _rolling_max(values: list[float], window: int) -> float:
    best = 0.0
    for i in range(max(1, len(values) - window + 1)):
        chunk = [v for v in values[i : i + window] if not math.isnan(v)]
        if chunk:
            best = max(best, sum(chunk) / len(chunk))
    return best


def spike_drain_seconds(points: list[report.Point], env: dict[str, str]) -> float | None:
    """Seconds from the end of the 10x hold until the backlog is back to its baseline level."""
    saved = {k: os.environ.get(k) for k in ("LOADTEST_DURATION", "LOADTEST_RATE")}
    os.environ.update({k: env[k] for k in saved})
    try:
        plan = spike_plan()
    finally:
        for k, value in saved.items():
            if value is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = value
    before = [p.backlog for p in points if p.t < plan.ramp_start and not math.isnan(p.backlog)]
    level = 2 * statistics.median(before) + 10 if before else 10
    for p in points:
        if p.t >= plan.decay_start and not math.isnan(p.backlog) and p.backlog <= level:
            return p.t - plan.decay_start
    return None


def summarise(points: list[report.Point], ledger: list[dict[str, Any]]) -> dict[str, Any]:
    busy = [p for p in points if p.users > 0]
    accepted = sum(p.accepted for p in points)
    p99s = [p.p99_ms for p in busy if not math.isnan(p.p99_ms)]
    return {
        "seconds": len(busy),
        "accepted_orders": int(accepted),
        "ledger_accepted": sum(1 for e in ledger if e["event"] == "accepted"),
        "accepted_per_s_mean": round(accepted / max(1, len(busy)), 1),
        "accepted_per_s_peak_10s": round(_rolling_max([p.accepted for p in points], 10), 1),
        "completed_sagas_per_s_peak_10s": round(
            _rolling_max([p.sagas_per_s for p in points], 10), 1
        ),
        "accept_p99_ms_worst_second": round(max(p99s), 1) if p99s else None,
        "accept_p99_ms_median_second": round(statistics.median(p99s), 1) if p99s else None,
        "shed_share_max": round(max((p.shed_share for p in points), default=0.0), 3),
        "errors_5xx": int(sum(p.errors_5xx for p in points)),
        "backlog_peak": max((p.backlog for p in points if not math.isnan(p.backlog)), default=0),
    }


def run(args: argparse.Namespace) -> Outcome:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    out = args.out or ROOT / "reports" / "loadtest" / f"{stamp}-{args.shape}"
    out.mkdir(parents=True, exist_ok=True)
    tokens = Tokens(None if args.token else args.key_dir, args.token)
    keys = {}
    key = args.channel_key or (None if args.token else channel_key_from_stack(args.key_dir))
    if key:
        keys["tmall"] = key
    manifest = prepare(
        args.host,
        tokens,
        flash_stock=args.flash_stock,
        flash_limit=args.flash_limit,
        channel_keys=keys,
    )
    manifest.save(out / "manifest.json")
    clear_run_files(out)
    (out / "ledger.jsonl").touch()
    urls = dict(enumerate(args.metrics)) if args.metrics else devstack_metrics_urls()
    sampler = MetricsSampler(
        {str(k): v for k, v in reachable({str(k): v for k, v in urls.items()}).items()},
        out / "samples.csv",
        api=(args.host, tokens.header("admin", f"loadtest-sampler-{manifest.run_id}")),
    )
    env = _env(args, out)
    sampler.start()
    started = time.time()
    locust = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "loadtest" / "locustfile.py"),
            "--headless",
            "--host",
            args.host,
            "--csv",
            str(out / "locust"),
            "--csv-full-history",
            "--html",
            str(out / "locust.html"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        cwd=ROOT,
        check=False,
    )
    sampler.stop()
    marker = out / "client_started.txt"
    if marker.exists():
        started = float(marker.read_text())
    points = report.build_series(out / "client.csv", out / "samples.csv", started)
    report.write_series(points, out / "timeseries.csv")
    report.chart(points, out / "chart.png", f"Surge {args.scenario} / {args.shape}")
    ledger = read_ledger(out / "ledger.jsonl")
    summary = summarise(points, ledger)
    summary["locust_exit"] = locust.returncode
    summary["load_started_at"] = started
    if args.shape == "spike":
        summary["spike_drain_seconds"] = spike_drain_seconds(points, env)
    result = None
    if not args.no_check:
        result = asyncio.run(
            checker.check(args.host, tokens, manifest, ledger, drain_seconds=args.drain_seconds)
        )
        (out / "checker.txt").write_text(checker.report(result) + "\n")
        summary["invariants_ok"] = result.ok
        summary["checker"] = result.stats
    summary["metrics"] = sampler.totals
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return Outcome(out, summary, points, result)


def main() -> None:
    args = parser().parse_args()
    outcome = run(args)
    say(json.dumps(outcome.summary, indent=2, default=str))
    if outcome.check is not None:
        say(checker.report(outcome.check))
    say(f"report: {outcome.out}")
    sys.exit(0 if outcome.check is None or outcome.check.ok else 1)


if __name__ == "__main__":
    main()
