"""Scaling measurement: saga throughput with 1 vs 2 consumer processes per hot service.

    uv run python -m loadtest.scaling --orders 2000

For each setting, a private stack (loadtest/stack.py) where order, inventory and fulfillment run
`consumers` processes (one `serve --role all` plus `consumers - 1` of `serve --role consumer`);
then `bench/saga.py --phase throughput` places `--orders` orders over gRPC (64 in flight) and
times them to `InvoiceIssued`. Prints completed sagas/s and the CPU seconds each component used
per order, read from /proc for the stack's own processes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil  # type: ignore[import-untyped]

from loadtest.common import say
from loadtest.stack import Stack

__all__ = ["main", "measure"]

ROOT = Path(__file__).resolve().parent.parent


def _processes(stack: Stack) -> dict[str, list[psutil.Process]]:
    groups: dict[str, list[psutil.Process]] = {}
    for name, service in stack.processes.items():
        assert service.process is not None
        groups.setdefault(name, []).append(psutil.Process(service.process.pid))
    for extra in stack.extra:
        assert extra.process is not None
        groups.setdefault(extra.name, []).append(psutil.Process(extra.process.pid))
    assert stack.nats.process is not None
    groups["nats"] = [psutil.Process(stack.nats.process.pid)]
    data_dir = str(stack.pg.data_dir)
    postmaster = next(
        p for p in psutil.process_iter(["cmdline"]) if data_dir in " ".join(p.info["cmdline"] or [])
    )
    groups["postgres"] = [postmaster]
    return groups


def _cpu(groups: dict[str, list[psutil.Process]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for name, procs in groups.items():
        total = 0.0
        for proc in procs:
            family = [proc, *proc.children(recursive=True)] if name == "postgres" else [proc]
            for member in family:
                try:
                    times = member.cpu_times()
                except psutil.Error:
                    continue
                # Postgres backends come and go: children_* keeps the CPU of those that ended.
                total += times.user + times.system + times.children_user + times.children_system
        totals[name] = total
    return totals


def measure(consumers: int, orders: int, root: Path) -> dict[str, object]:
    stack = Stack(root / f"consumers-{consumers}", consumers=consumers)
    try:
        stack.start()
        groups = _processes(stack)
        before = _cpu(groups)
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "saga.py"),
                "--phase=throughput",
                f"--orders={orders}",
                "--concurrency=64",
                f"--order={stack.processes['order'].address}",
                f"--inventory={stack.processes['inventory'].address}",
                f"--nats={stack.nats.url}",
                f"--prefix={stack.prefix}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        after = _cpu(groups)
    finally:
        stack.stop()
    found = re.search(r"completed sagas:\s+([\d.]+) sagas/s \((\d+)/(\d+)", done.stdout)
    accepted = re.search(r"accepted:\s+([\d.]+)", done.stdout)
    return {
        "consumers": consumers,
        "completed_sagas_per_s": float(found.group(1)) if found else None,
        "invoiced": f"{found.group(2)}/{found.group(3)}" if found else None,
        "placed_per_s": float(accepted.group(1)) if accepted else None,
        "cpu_ms_per_order": {
            name: round(1000 * (after[name] - before[name]) / orders, 2) for name in before
        },
        "output_tail": done.stdout[-600:] + done.stderr[-600:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="surge-scaling-"))
    results = [measure(n, args.orders, root) for n in (1, 2)]
    (root / "scaling.json").write_text(json.dumps(results, indent=2))
    for r in results:
        say(
            f"{r['consumers']} consumer process(es) per hot service: "
            f"{r['completed_sagas_per_s']} completed sagas/s ({r['invoiced']} invoiced), "
            f"placed {r['placed_per_s']}/s; CPU ms/order {r['cpu_ms_per_order']}"
        )
    say(f"report: {root / 'scaling.json'}")


if __name__ == "__main__":
    main()
