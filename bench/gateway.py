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
import ssl
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from saga import cpu_seconds, processes  # bench/ is the script's directory: on sys.path
from surge_gateway.keys import ensure_keypair, make_token


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
        tls = ssl.create_default_context()  # one for all clients: each costs ms of CPU to build

        # A client (one connection) per worker, made before the clock starts: httpcore scans its
        # whole pool on every request, which at 64 connections cost the bench more CPU than
        # the requests, and the bench's own latency was counted as the gateway's.
        clients = [httpx.AsyncClient(base_url=url, timeout=30, verify=tls) for _ in tokens]

        async def worker(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
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
                elif honour_retry_after and response.status_code in (429, 503):
                    # As a well-behaved client does; without it a shed worker asks again at
                    # once and the bench measures its own loop as much as the gateway.
                    wait = float(response.headers.get("retry-after", "1"))
                    await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))

        procs = processes(state_dir)
        before = cpu_seconds(procs)
        began = time.monotonic()
        deadline = began + seconds
        await asyncio.gather(*(worker(c, t) for c, t in zip(clients, tokens, strict=True)))
        elapsed = time.monotonic() - began
        after = cpu_seconds(procs)
        for client in clients:
            await client.aclose()
    latencies.sort()
    result = {
        "accepted_per_second": statuses[202] / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        **{f"status_{code}": float(n) for code, n in sorted(statuses.items())},
        "cpu_ms_per_request_gateway": 1000
        * (after["gateway"] - before["gateway"])
        / max(sum(statuses.values()), 1),
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
    parser.add_argument(
        "--honour-retry-after",
        action="store_true",
        help="a worker shed with 429/503 waits Retry-After seconds before its next order",
    )
    args = parser.parse_args()
    # httpcore tries `import sniffio` on every request; without sniffio installed each failed
    # import walks sys.path (a fifth of the bench's CPU, measured with py-spy). A None entry
    # makes it fail at once, and httpcore then assumes asyncio, which is what runs here.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]
    result = asyncio.run(
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
