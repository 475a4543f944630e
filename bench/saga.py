"""Saga benchmark: drive orders through the running local stack (`make up`) and measure.

Prints (1) sustained completed sagas/s with many orders in flight, (2) latency from placement to
invoice issued at a fixed arrival rate (p50/p95/p99), and (3) CPU milliseconds per order for each
process (services, PostgreSQL, NATS), read from /proc before and after each phase.

    make bench-saga                       # defaults below
    uv run python bench/saga.py --orders 5000 --concurrency 128 --rate 150 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import grpc
import nats
import psutil
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from surge.order.v1 import order_pb2, order_pb2_grpc

PROCESS_MARKERS = {
    "gateway": "surge-gateway",
    "order": "surge-order",
    "inventory": "surge-inventory",
    "fulfillment": "surge-fulfillment",
    "billing": "surge-billing",
    "postgres": "postgres",
    "nats": "nats-server",
}


def stack_pids(state_dir: Path) -> set[int] | None:
    """Every process of the stack started from `state_dir` (honcho's tree, NATS, PostgreSQL).

    Other stacks and test runs on the same machine run the same programs; counting them would
    inflate CPU per order. None when the state dir has no pid files (count by name only).
    """
    roots: list[int] = []
    for name in ("honcho.pid", "nats.pid", "postgres/data/postmaster.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            roots.append(int((state_dir / name).read_text().split()[0]))
    if not roots:
        return None
    pids: set[int] = set()
    for pid in roots:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            pids.add(pid)
            pids.update(child.pid for child in root.children(recursive=True))
    return pids


def processes(state_dir: Path | None = None) -> dict[str, list[psutil.Process]]:
    found: dict[str, list[psutil.Process]] = {name: [] for name in PROCESS_MARKERS}
    allowed = stack_pids(state_dir) if state_dir is not None else None
    for proc in psutil.process_iter(["cmdline", "name"]):
        if allowed is not None and proc.pid not in allowed:
            continue
        cmdline = " ".join(proc.info["cmdline"] or [])
        for name, marker in PROCESS_MARKERS.items():
            if marker in cmdline or proc.info["name"] == marker:
                found[name].append(proc)
                break
    return found


def cpu_seconds(procs: dict[str, list[psutil.Process]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for name, group in procs.items():
        total = 0.0
        for proc in group:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                continue
        totals[name] = total
    return totals


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run = uuid.uuid4().hex[:8]
        self.sku = f"BENCH-{self.run}"
        self.phone_base = uuid.uuid4().int % 10**8
        self.retries = 0
        self.invoiced: dict[str, float] = {}
        self.placed: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[float]] = {}

    async def setup(self) -> None:
        self.order_channel = grpc.aio.insecure_channel(self.args.order)
        self.orders = order_pb2_grpc.OrderServiceStub(self.order_channel)
        async with grpc.aio.insecure_channel(self.args.inventory) as channel:
            inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
            warehouses = await inventory.ListWarehouses(inventory_pb2.ListWarehousesRequest())
            self.warehouse = warehouses.warehouses[0]
            await inventory.CreateSku(
                inventory_pb2.CreateSkuRequest(
                    sku=inventory_pb2.Sku(
                        sku=self.sku,
                        name="Benchmark widget",
                        category="bench",
                        weight_grams=500,
                        active=True,
                        unit_price=common_pb2.Money(amount_minor=1999, currency="CNY"),
                    )
                )
            )
            await inventory.AdjustStock(
                inventory_pb2.AdjustStockRequest(
                    sku=self.sku,
                    warehouse=self.warehouse.code,
                    quantity=1_000_000,
                    reason="benchmark stock",
                    actor="bench",
                )
            )
        self.nc = await nats.connect(self.args.nats)
        subject = f"{self.args.prefix}.billing.evt.invoice_issued"
        await self.nc.subscribe(subject, cb=self.on_invoice)

    async def on_invoice(self, msg: nats.aio.msg.Msg) -> None:
        issued = billing_pb2.InvoiceIssued.FromString(msg.data)
        now = time.perf_counter()
        self.invoiced.setdefault(issued.order_id, now)
        waiter = self.waiters.pop(issued.order_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)

    def request(self, n: int) -> order_pb2.PlaceOrderRequest:
        return order_pb2.PlaceOrderRequest(
            client_order_id=f"{self.run}-{n}",
            channel="web",
            external_id=f"{self.run}-{n}",
            # A unique phone and address per order: velocity review rules hold repeat buyers.
            customer=common_pb2.Customer(
                id=f"bench-{self.run}-{n % 1000}",
                name="Bench Buyer",
                phone=f"139{(self.phone_base + n) % 10**8:08d}",
            ),
            shipping_address=common_pb2.Address(
                province=self.warehouse.region,
                city="City",
                district="District",
                line1=f"{n} Bench Road {self.run}",
                postal_code="200000",
            ),
            lines=[order_pb2.PlaceOrderLine(sku=self.sku, quantity=1)],
            payment_terms=common_pb2.PAYMENT_TERMS_ON_ACCOUNT,
        )

    async def place(self, n: int) -> tuple[str, float]:
        started = time.perf_counter()
        request = self.request(n)
        for attempt in range(1, 6):
            try:
                reply = await self.orders.PlaceOrder(request, timeout=10)
                break
            except grpc.aio.AioRpcError as exc:
                # On a shared, overloaded machine a downstream deadline can pass; PlaceOrder is
                # idempotent on client_order_id, so retrying is safe and the order counts once.
                retryable = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                if exc.code() not in retryable or attempt == 5:
                    raise
                self.retries += 1
                await asyncio.sleep(0.2 * attempt)
        self.placed[reply.order.id] = started
        return reply.order.id, started

    async def wait_all(self, order_ids: Iterable[str], deadline: float) -> None:
        end = time.perf_counter() + deadline
        pending = set(order_ids)
        while pending and time.perf_counter() < end:
            pending -= self.invoiced.keys()
            await asyncio.sleep(0.05)
        if pending:
            print(f"  warning: {len(pending)} orders not invoiced within {deadline}s")

    async def throughput(self) -> None:
        count, concurrency = self.args.orders, self.args.concurrency
        procs = processes(self.args.state_dir)
        before = cpu_seconds(procs)
        started = time.perf_counter()
        next_n = 0
        ids: list[str] = []

        async def worker() -> None:
            nonlocal next_n
            while next_n < count:
                n = next_n
                next_n += 1
                order_id, _ = await self.place(n)
                ids.append(order_id)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        accepted_at = time.perf_counter()
        await self.wait_all(ids, 120)
        finished = max(self.invoiced.get(i, accepted_at) for i in ids)
        after = cpu_seconds(procs)
        done = sum(1 for i in ids if i in self.invoiced)
        print(f"throughput phase: {count} orders, {concurrency} in flight")
        print(f"  accepted:          {count / (accepted_at - started):8.1f} orders/s")
        print(
            f"  completed sagas:   {done / (finished - started):8.1f} sagas/s "
            f"({done}/{count} invoiced in {finished - started:.1f}s)"
        )
        self.print_cpu(before, after, done)
        if self.retries:
            print(f"  placement retries (UNAVAILABLE/DEADLINE_EXCEEDED): {self.retries}")

    async def latency(self) -> None:
        rate, seconds = self.args.rate, self.args.seconds
        total = int(rate * seconds)
        procs = processes(self.args.state_dir)
        before = cpu_seconds(procs)
        latencies: list[float] = []
        base = self.args.orders + 1
        started = time.perf_counter()

        async def one(n: int) -> None:
            order_id, placed_at = await self.place(base + n)
            invoiced_at = self.invoiced.get(order_id)
            if invoiced_at is None:
                waiter = asyncio.get_running_loop().create_future()
                self.waiters[order_id] = waiter
                invoiced_at = self.invoiced.get(order_id) or await asyncio.wait_for(waiter, 60)
            latencies.append(invoiced_at - placed_at)

        tasks = []
        for n in range(total):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        after = cpu_seconds(procs)
        ms = [v * 1000 for v in latencies]
        print(f"latency phase: {rate}/s for {seconds}s ({total} orders), placement -> invoiced")
        print(
            f"  p50 {percentile(ms, 0.5):6.1f} ms   p95 {percentile(ms, 0.95):6.1f} ms   "
            f"p99 {percentile(ms, 0.99):6.1f} ms   mean {statistics.fmean(ms):6.1f} ms"
        )
        self.print_cpu(before, after, total)

    @staticmethod
    def print_cpu(before: dict[str, float], after: dict[str, float], orders: int) -> None:
        parts = [
            f"{name} {1000 * (after[name] - before[name]) / max(orders, 1):.2f}" for name in before
        ]
        total = sum(after.values()) - sum(before.values())
        print(f"  CPU ms/order:      {', '.join(parts)}; total {1000 * total / max(orders, 1):.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--order", default=f"127.0.0.1:{os.environ.get('SURGE_DEV_ORDER_PORT', 50051)}"
    )
    parser.add_argument(
        "--inventory", default=f"127.0.0.1:{os.environ.get('SURGE_DEV_INVENTORY_PORT', 50052)}"
    )
    parser.add_argument(
        "--nats", default=f"nats://127.0.0.1:{os.environ.get('SURGE_DEV_NATS_PORT', 14222)}"
    )
    parser.add_argument("--prefix", default="surge")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("SURGE_DEV_STATE_DIR", ".surge")),
        help="the stack's state dir: only its processes are counted for CPU per order",
    )
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=150)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--phase", choices=["both", "throughput", "latency"], default="both")
    args = parser.parse_args()
    bench = Bench(args)
    await bench.setup()
    print(f"machine: {os.cpu_count()} cores; sku {bench.sku} in warehouse {bench.warehouse.code}")
    if args.phase in ("both", "throughput"):
        await bench.throughput()
    if args.phase in ("both", "latency"):
        await bench.latency()
    await bench.nc.drain()
    await bench.order_channel.close()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
