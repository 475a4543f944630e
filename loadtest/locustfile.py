"""Locust entry point: `LOADTEST_SCENARIO` picks the users, `LOADTEST_SHAPE` the load shape.

Run through `make loadtest` (loadtest/run.py), which prepares the manifest and ledger first.
Besides Locust's own CSV and HTML, this file writes `LOADTEST_CLIENT_CSV`: one row per second with
the accepted orders, the shed (429/503) and failed requests and the accept latency (p50/p99) of
order placements, which is what the chart plots.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust import events
from locust.env import Environment

from loadtest import users
from loadtest.shapes import SHAPES

SCENARIO = os.environ.get("LOADTEST_SCENARIO", "mixed")
SHAPE = os.environ.get("LOADTEST_SHAPE", "steady")
PLACEMENTS = {users.PLACE, users.WEBHOOK}


class Shape(SHAPES[SHAPE]):  # type: ignore[valid-type,misc]
    abstract = False


if SCENARIO in ("mixed", "shop"):

    class Shopper(users.Shopper):
        abstract = False
        weight = int(os.environ.get("LOADTEST_SHOPPER_WEIGHT", 8))


if SCENARIO in ("mixed", "webhook"):

    class ChannelWebhook(users.ChannelWebhook):
        abstract = False
        weight = int(os.environ.get("LOADTEST_WEBHOOK_WEIGHT", 1))


if SCENARIO == "flash":

    class FlashBuyer(users.FlashBuyer):
        abstract = False


class SecondBuckets:
    """Per-second counts and accept latencies of order placements, flushed to a CSV."""

    FIELDS = (
        "time",
        "users",
        "accepted",
        "shed_429",
        "shed_503",
        "errors_5xx",
        "other_failures",
        "requests",
        "accept_p50_ms",
        "accept_p99_ms",
    )

    def __init__(self, path: str) -> None:
        self.path = path
        # Every accepted placement's latency too: a step's exact p99 for `make bench`.
        self.raw = open(path.removesuffix(".csv") + "_latencies.csv", "a")  # noqa: SIM115
        self.counts: Counter[str] = Counter()
        self.latencies: list[float] = []
        with open(path, "w", newline="") as out:
            csv.writer(out).writerow(self.FIELDS)

    def on_request(
        self, name: str, response_time: float, response: Any, exception: Any, **_: Any
    ) -> None:
        self.counts["requests"] += 1
        code = getattr(response, "status_code", 0) or 0
        if name in PLACEMENTS and code in (200, 202):
            self.counts["accepted"] += 1
            self.latencies.append(response_time)
            self.raw.write(f"{time.time():.3f},{response_time:.1f}\n")
        elif code == 429:
            self.counts["shed_429"] += 1
        elif code == 503:
            self.counts["shed_503"] += 1
        elif code >= 500:
            self.counts["errors_5xx"] += 1
        elif exception is not None:
            self.counts["other_failures"] += 1

    def flush(self, user_count: int) -> None:
        counts, self.counts = self.counts, Counter()
        latencies, self.latencies = sorted(self.latencies), []

        def pick(q: float) -> str:
            if not latencies:
                return ""
            return f"{latencies[min(len(latencies) - 1, int(q * len(latencies)))]:.1f}"

        self.raw.flush()
        row = [f"{time.time():.3f}", user_count, *(counts[f] for f in self.FIELDS[2:8])]
        with open(self.path, "a", newline="") as out:
            csv.writer(out).writerow([*row, pick(0.5), pick(0.99)])


@events.test_start.add_listener  # type: ignore[untyped-decorator]
def _start(environment: Environment, **_: Any) -> None:
    path = os.environ.get("LOADTEST_CLIENT_CSV")
    if not path:
        return
    buckets = SecondBuckets(path)
    # The shape's clock starts now, seconds after the process did (imports, spawning).
    with open(path.removesuffix(".csv") + "_started.txt", "w") as out:
        out.write(f"{time.time():.3f}\n")
    environment.events.request.add_listener(buckets.on_request)  # type: ignore[no-untyped-call]

    def loop() -> None:
        while True:
            gevent.sleep(1 - time.time() % 1)
            runner = environment.runner
            buckets.flush(runner.user_count if runner is not None else 0)

    stop = environment.events.test_stop
    stop.add_listener(lambda **_: buckets.flush(0))  # type: ignore[no-untyped-call]
    gevent.spawn(loop)
