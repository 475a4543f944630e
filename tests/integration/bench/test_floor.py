"""`bench/floor.py` runs end to end against its own real servers and adds up what it measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FLOOR = Path(__file__).resolve().parents[3] / "bench" / "floor.py"


def test_floor_measures_every_component_and_sums_the_paths() -> None:
    done = subprocess.run(
        [sys.executable, str(FLOOR), "--uses", "400", "--concurrency", "4"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = {
        name: float(value)
        for name, _, value in (line.partition(": ") for line in done.stdout.splitlines())
        if name != "machine"
    }
    for part in ("http", "grpc", "postgres", "nats_publish", "nats_consume"):
        assert figures[f"{part}_client_ms"] > 0, part
        assert figures[f"{part}_per_s"] > 0, part
    # Other processes' CPU is counted in 10 ms ticks: 400 uses of nats-server (~10 ms) may not
    # reach one; the others take several.
    for part in ("http", "grpc", "postgres"):
        assert figures[f"{part}_server_ms"] > 0, part

    def both(part: str) -> float:
        return figures[f"{part}_client_ms"] + figures[f"{part}_server_ms"]

    accept = both("http") + both("grpc") + 2 * both("postgres") + both("nats_publish")
    hops = 6 * (both("nats_publish") + both("nats_consume"))
    saga = both("grpc") + 7 * both("postgres") + hops
    # Printed to three decimals: allow each of the up to 14 rounded terms its half-thousandth.
    assert abs(figures["accept_path_floor_ms"] - accept) < 0.01
    assert abs(figures["saga_floor_ms"] - saga) < 0.03
