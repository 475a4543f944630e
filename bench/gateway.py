"""Gateway benchmark: accepted `POST /v1/orders` per second and latency at a fixed concurrency.

Runs against a running gateway (`make up`): mints tokens with the local dev key, creates a SKU
with plenty of stock through the API, then keeps `--concurrency` order placements in flight for
`--seconds` and prints accepted orders/s, p50/p99 latency and how many were shed (429/503).

    uv run python bench/gateway.py --url http://127.0.0.1:8080 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from saga import (
    PROCESS_MARKERS,
    cpu_seconds,
    processes,
)  # bench/ is the script's directory: on sys.path
from surge_gateway.keys import ensure_keypair, make_token


async def _send(
    http: aiohttp.ClientSession, method: str, path: str, body: Any, headers: dict[str, str]
) -> Any:
    async with http.request(method, path, json=body, headers=headers) as response:
        response.raise_for_status()
        return await response.json()


async def _bench_sku(http: aiohttp.ClientSession, operator: dict[str, str]) -> str:
    """A new SKU with a million units in every warehouse, made through the API."""
    sku = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
    product = {"sku": sku, "name": "Bench", "unit_price": 100, "weight_grams": 10}
    await _send(http, "POST", "/v1/inventory/skus", {**product, "category": "bench"}, operator)
    warehouses = await _send(http, "GET", "/v1/warehouses", None, operator)
    for warehouse in warehouses["items"]:
        adjustment = {
            "sku": sku,
            "warehouse": warehouse["code"],
            "quantity": 1_000_000,
            "reason": "bench",
        }
        headers = {**operator, "Idempotency-Key": uuid.uuid4().hex}
        await _send(http, "POST", "/v1/inventory/adjustments", adjustment, headers)
    return sku


async def run(
    url: str,
    key_dir: Path,
    concurrency: int,
    seconds: float,
    state_dir: Path,
    honour_retry_after: bool = False,
) -> dict[str, float]:
    private_path, _ = ensure_keypair(key_dir)
    private = private_path.read_bytes()
    operator = {"Authorization": "Bearer " + make_token(private, subject="bench", roles=["admin"])}
    # aiohttp, not httpx: on this machine httpx spent ~1.3 CPU ms per request against ~0.25
    # (the bench shares the 2 cores with the stack it measures, so its own CPU is the stack's
    # loss: with httpx it took ~3.5 CPU ms per accepted order, an eighth of the machine).
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as http:
        sku = await _bench_sku(http, operator)
        # One customer per worker so per-principal rate limits measure the service, not the bench.
        tokens = [
            {
                "Authorization": "Bearer "
                + make_token(
                    private, subject=f"bench-{i}-{uuid.uuid4().hex[:6]}", roles=["customer"]
                )
            }
            for i in range(concurrency)
        ]
        latencies: list[float] = []
        statuses: Counter[int] = Counter()

        async def worker(headers: dict[str, str]) -> None:
            while time.monotonic() < deadline:
                body = {
                    "customer": {"name": "Bench", "phone": f"+86139{uuid.uuid4().int % 10**8:08d}"},
                    "shipping_address": {
                        "province": "Zhejiang",
                        "city": "Hangzhou",
                        "district": "Xihu",
                        # Unique per order: velocity review rules hold repeat addresses.
                        "line1": f"{uuid.uuid4().hex[:12]} Bench Rd",
                        "postal_code": "310000",
                    },
                    "lines": [{"sku": sku, "quantity": 1}],
                    "payment_terms": "on_account",
                }
                started = time.perf_counter()
                async with http.post(
                    "/v1/orders",
                    json=body,
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                ) as response:
                    await response.read()
                statuses[response.status] += 1
                if response.status == 202:
                    latencies.append(time.perf_counter() - started)
                elif honour_retry_after and response.status in (429, 503):
                    # As a well-behaved client does; without it a shed worker asks again at
                    # once and the bench measures its own loop as much as the gateway.
                    wait = float(response.headers.get("retry-after", "1"))
                    await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))

        procs = processes(state_dir)
        before = cpu_seconds(procs)
        bench_before = time.process_time()
        began = time.monotonic()
        deadline = began + seconds
        await asyncio.gather(*(worker(t) for t in tokens))
        elapsed = time.monotonic() - began
        bench_cpu = time.process_time() - bench_before
        after = cpu_seconds(procs)
    latencies.sort()
    requests = max(sum(statuses.values()), 1)
    accepted = max(statuses[202], 1)
    return {
        "accepted_per_second": statuses[202] / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        **{f"status_{code}": float(n) for code, n in sorted(statuses.items())},
        "cpu_ms_per_request_gateway": 1000 * (after["gateway"] - before["gateway"]) / requests,
        "cpu_ms_per_request_bench": 1000 * bench_cpu / requests,
        # CPU per accepted order while placing (the saga behind it keeps running afterwards).
        **{
            f"cpu_ms_per_accepted_{name}": 1000 * (after[name] - before[name]) / accepted
            for name in PROCESS_MARKERS
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--key-dir", type=Path, default=Path(".surge"))
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("SURGE_DEV_STATE_DIR", ".surge")),
        help="the stack's state dir: only its processes are counted for CPU",
    )
    parser.add_argument(
        "--honour-retry-after",
        action="store_true",
        help="a worker shed with 429/503 waits Retry-After seconds before its next order",
    )
    args = parser.parse_args()
    result = uvloop.run(
        run(
            args.url,
            args.key_dir,
            args.concurrency,
            args.seconds,
            args.state_dir,
            args.honour_retry_after,
        )
    )
    for name, value in result.items():
        print(f"{name}: {value:.1f}")


if __name__ == "__main__":
    main()
