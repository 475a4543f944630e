"""Turn a run's per-second client CSV and the metrics samples into one time series and a chart.

`timeseries.csv`: per second since the start, the users, accepted orders/s, shed (429/503) share,
5xx/s, accept p50/p99 (ms), and (from the nearest earlier metrics sample) completed sagas/s and
the backlog. `chart.png`: the same, five panels (matplotlib, Agg backend: no display needed).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on servers and CI
import matplotlib.pyplot as plt

__all__ = ["Point", "build_series", "chart", "write_series"]


@dataclass
class Point:
    t: float
    users: int
    accepted: float
    shed_share: float
    errors_5xx: float
    p50_ms: float
    p99_ms: float
    sagas_per_s: float
    backlog: float


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _float(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "") else math.nan
    except ValueError:
        return math.nan


def build_series(client_csv: Path, samples_csv: Path, started: float) -> list[Point]:
    client = _read(client_csv)
    samples = [(float(r["time"]), r) for r in _read(samples_csv)]
    points: list[Point] = []
    sample_index = 0
    for row in client:
        now = float(row["time"])
        while sample_index + 1 < len(samples) and samples[sample_index + 1][0] <= now:
            sample_index += 1
        sagas = backlog = math.nan
        if sample_index > 0 and samples:
            (t1, s1), (t0, s0) = samples[sample_index], samples[sample_index - 1]
            if t1 > t0:
                sagas = (_float(s1["sagas_completed"]) - _float(s0["sagas_completed"])) / (t1 - t0)
        if samples:
            s = samples[sample_index][1]
            running = _float(s.get("running_sagas"))
            backlog = _float(s["consumer_pending"]) + _float(s["outbox_backlog"])
            backlog += 0 if math.isnan(running) else running
        shed = int(row["shed_429"]) + int(row["shed_503"])
        answered = shed + int(row["accepted"]) + int(row["errors_5xx"])
        points.append(
            Point(
                t=now - started,
                users=int(row["users"]),
                accepted=float(row["accepted"]),
                shed_share=shed / answered if answered else 0.0,
                errors_5xx=float(row["errors_5xx"]),
                p50_ms=_float(row["accept_p50_ms"]),
                p99_ms=_float(row["accept_p99_ms"]),
                sagas_per_s=sagas,
                backlog=backlog,
            )
        )
    return points


def write_series(points: list[Point], path: Path) -> None:
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "second",
                "users",
                "accepted_per_s",
                "shed_share",
                "errors_5xx_per_s",
                "accept_p50_ms",
                "accept_p99_ms",
                "completed_sagas_per_s",
                "backlog",
            ]
        )
        for p in points:
            out.writerow(
                [
                    f"{p.t:.0f}",
                    p.users,
                    f"{p.accepted:.0f}",
                    f"{p.shed_share:.3f}",
                    f"{p.errors_5xx:.0f}",
                    f"{p.p50_ms:.1f}",
                    f"{p.p99_ms:.1f}",
                    f"{p.sagas_per_s:.1f}",
                    f"{p.backlog:.0f}",
                ]
            )


def chart(points: list[Point], path: Path, title: str) -> None:
    t = [p.t for p in points]
    fig, axes = plt.subplots(5, 1, figsize=(11, 13), sharex=True)
    axes[0].plot(t, [p.accepted for p in points], label="accepted orders/s")
    axes[0].plot(t, [p.users for p in points], "--", label="offered (users)", alpha=0.6)
    axes[0].set_ylabel("orders/s")
    axes[1].plot(t, [p.sagas_per_s for p in points], color="tab:green", label="completed sagas/s")
    axes[1].set_ylabel("sagas/s")
    axes[2].plot(t, [100 * p.shed_share for p in points], color="tab:orange", label="429/503 %")
    axes[2].plot(t, [p.errors_5xx for p in points], color="tab:red", label="other 5xx /s")
    axes[2].set_ylabel("shed %")
    axes[3].plot(t, [p.p50_ms for p in points], label="accept p50")
    axes[3].plot(t, [p.p99_ms for p in points], label="accept p99")
    axes[3].axhline(300, color="grey", linestyle=":", label="300 ms")
    axes[3].set_ylabel("ms")
    axes[4].plot(t, [p.backlog for p in points], color="tab:purple", label="backlog")
    axes[4].set_ylabel("messages + sagas")
    axes[4].set_xlabel("seconds since start")
    for axis in axes:
        axis.grid(alpha=0.3)
        axis.legend(loc="upper right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
