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

import httpx
from saga import cpu_seconds, processes  # bench/ is the script's directory: on sys.path
from surge_gateway.keys import ensure_keypair, make_token


async def run(
    url: str, key_dir: Path, concurrency: int, seconds: float, state_dir: Path
) -> dict[str, float]:
    private_path, _ = ensure_keypair(key_dir)
    private = private_path.read_bytes()
    operator = {"Authorization": "Bearer " + make_token(private, subject="bench", roles=["admin"])}
    sku = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        created = await http.post(
            "/v1/inventory/skus",
            json={
                "sku": sku,
                "name": "Bench",
                "unit_price": 100,
                "weight_grams": 10,
                "category": "bench",
            },
            headers=operator,
        )
        created.raise_for_status()
        warehouses = (await http.get("/v1/warehouses", headers=operator)).json()["items"]
        for warehouse in warehouses:
            adjusted = await http.post(
                "/v1/inventory/adjustments",
                json={
                    "sku": sku,
                    "warehouse": warehouse["code"],
                    "quantity": 1_000_000,
                    "reason": "bench",
                },
                headers={**operator, "Idempotency-Key": uuid.uuid4().hex},
            )
            adjusted.raise_for_status()
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
        deadline = time.monotonic() + seconds

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
                response = await http.post(
                    "/v1/orders",
                    json=body,
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                )
                statuses[response.status_code] += 1
                if response.status_code == 202:
                    latencies.append(time.perf_counter() - started)

        procs = processes(state_dir)
        before = cpu_seconds(procs)
        began = time.monotonic()
        await asyncio.gather(*(worker(t) for t in tokens))
        elapsed = time.monotonic() - began
        after = cpu_seconds(procs)
    latencies.sort()
    result = {
        "accepted_per_second": statuses[202] / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        **{f"status_{code}": float(n) for code, n in sorted(statuses.items())},
        # CPU per accepted order while placing (the saga behind it keeps running afterwards).
        **{
            f"cpu_ms_per_accepted_{name}": 1000 * (after[name] - before[name]) / accepted
            for name in ("gateway", "order", "inventory", "postgres")
            for accepted in [max(statuses[202], 1)]
        },
    }
    return result


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
    args = parser.parse_args()
    result = asyncio.run(
        run(args.url, args.key_dir, args.concurrency, args.seconds, args.state_dir)
    )
    for name, value in result.items():
        print(f"{name}: {value:.1f}")


if __name__ == "__main__":
    main()
