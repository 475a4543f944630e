"""Micro-benchmark of the gateway's OWN CPU per `POST /v1/orders` (no database, no services).

The real app (`surge_gateway.app.create_app`) with its ports replaced by in-process fakes: a
PlaceOrder stub answering a canned order, an in-memory idempotency store and intake log (dict
look-ups, so they cost next to nothing and stay O(1) however many orders are placed). It is
served by real uvicorn (uvloop + httptools, as `surge-gateway serve`, tracing installed the
same way) in a child process on 127.0.0.1 (random port), and driven by a lean keep-alive client
(pre-encoded HTTP/1.1 requests, one connection per worker) in this process. Every request has a
unique Idempotency-Key and a unique phone and address; one valid customer JWT per worker.

It prints the server process's CPU ms per request: `time.process_time()` of the child (asked
for over its stdin) after the warm-up and after the measured requests, divided by the number of
measured requests. All of them must be 202, or the run fails. The figure is CPU time, so it
stays comparable while other processes use the cores; run it a few times and compare medians.

    uv run python bench/gateway_app.py --requests 4000 --concurrency 16
    # A/B: the package as it was, against the working tree
    PYTHONPATH=/tmp/gw-A uv run python bench/gateway_app.py --requests 4000 --runs 5
    # What a new order refused by admission control (503) costs
    uv run python bench/gateway_app.py --requests 4000 --runs 3 --shed
    # A busy gateway: 5,000 other customers placed an order in the last minute
    uv run python bench/gateway_app.py --requests 4000 --principals 5000
    # Where the time goes: profile the server's event-loop thread for the measured requests
    uv run python bench/gateway_app.py --requests 3000 --profile /tmp/gw.prof
    uv run python -m pstats /tmp/gw.prof   # then: sort cumtime, stats 40

`--py-spy OUT` samples the server with py-spy for the measured requests (a sampling profile,
without cProfile's per-call overhead skewing towards many small calls; folded stacks in OUT;
leave out the stacks of the `_control` thread, which py-spy counts while it waits on stdin):

    PY_SPY="uvx py-spy" uv run python bench/gateway_app.py --requests 6000 --py-spy /tmp/gw.txt

`--profile` runs cProfile in the server process (in its event-loop thread, enabled after the
warm-up); cProfile's own overhead inflates the CPU figure of such a run, so measure without it.
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
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SKU = "BENCH-TEA"
_HERE = Path(__file__).resolve()


# ---------------------------------------------------------------- the server (child process)


@dataclass
class CannedOrders:
    """PlaceOrder answering the same canned order (created) to every call."""

    reply: Any = None
    calls: int = 0

    async def PlaceOrder(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.calls += 1
        return self.reply


def canned_order() -> Any:
    from surge.common.v1 import common_pb2
    from surge.order.v1 import order_pb2

    def cny(amount: int) -> common_pb2.Money:
        return common_pb2.Money(amount_minor=amount, currency="CNY")

    order = order_pb2.Order(
        id="0193a5b2-0000-7000-8000-000000000001",
        client_order_id="bench",
        channel="web",
        customer=common_pb2.Customer(id="bench-0", name="Bench", phone="+8613900000000"),
        shipping_address=common_pb2.Address(
            province="Zhejiang",
            city="Hangzhou",
            district="Xihu",
            line1="1 Bench Rd",
            postal_code="310000",
        ),
        lines=[
            order_pb2.OrderLine(
                sku=SKU,
                name="Bench tea",
                quantity=1,
                unit_price=cny(100),
                line_discount=cny(0),
                line_total=cny(100),
            )
        ],
        subtotal=cny(100),
        discount_total=cny(0),
        total=cny(100),
        payment_terms=common_pb2.PAYMENT_TERMS_ON_ACCOUNT,
        status=order_pb2.ORDER_STATUS_PENDING_PAYMENT,
        version=1,
        history=[
            order_pb2.StatusChange(
                to_status=order_pb2.ORDER_STATUS_PENDING_PAYMENT, reason="placed"
            )
        ],
    )
    order.created_at.GetCurrentTime()
    order.updated_at.CopyFrom(order.created_at)
    return order_pb2.PlaceOrderResponse(order=order, created=True)


def _control(loop: asyncio.AbstractEventLoop, profile: str | None) -> None:
    """Answer the parent's commands on stdin: `cpu` -> process CPU seconds; `start`/`stop` the
    profiler (in the event-loop thread: cProfile profiles only the thread that enables it)."""
    import cProfile

    profiler = cProfile.Profile()
    for line in sys.stdin:
        command = line.strip()
        if command == "start" and profile:
            asyncio.run_coroutine_threadsafe(_call(profiler.enable), loop).result()
        elif command == "stop" and profile:
            asyncio.run_coroutine_threadsafe(_call(profiler.disable), loop).result()
            profiler.dump_stats(profile)
        sys.stdout.write(f"{time.process_time():.6f}\n")
        sys.stdout.flush()


async def _call(function: Any) -> None:
    function()


def serve(profile: str | None, public_key: bytes, shed: bool) -> None:
    import uvicorn
    from surge_gateway.app import Overrides, create_app
    from surge_gateway.config import DEFAULT_RATE_LIMITS, GatewaySettings
    from surge_gateway.downstream import Downstream
    from surge_gateway.entrypoints.cli import UVICORN_OPTIONS
    from surge_gateway.idempotency import MemoryIdempotencyStore
    from surge_platform.telemetry import init_tracing

    sys.path.insert(0, str(_HERE.parents[1]))  # the repo root, for tests.unit.gateway.fakes
    from tests.unit.gateway.fakes import MemoryApiKeys, MemoryAuditLog, MemoryIntakeLog

    init_tracing("gateway")  # as `surge-gateway serve`: spans are created, then not sampled
    settings = GatewaySettings(
        database_url="postgresql+asyncpg://unused@127.0.0.1:1/unused",  # type: ignore[arg-type]
        order_addr="127.0.0.1:1",
        inventory_addr="127.0.0.1:1",
        fulfillment_addr="127.0.0.1:1",
        billing_addr="127.0.0.1:1",
        jwt_public_key=public_key.decode(),  # type: ignore[arg-type]
        nats_url="",
        # The default limits' shape (two windows for customers) with room for the bench.
        rate_limits={**DEFAULT_RATE_LIMITS, "customer": "100000/second;6000000/minute"},
    )
    orders = CannedOrders(canned_order())
    down = Downstream(orders=orders, inventory=None, fulfillment=None, billing=None, health={})
    app = create_app(
        settings,
        Overrides(
            downstream=down,
            idempotency_store=MemoryIdempotencyStore(),
            api_keys=MemoryApiKeys(),
            intake_log=MemoryIntakeLog(),
            audit_log=MemoryAuditLog(),
        ),
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, backlog=512, **UVICORN_OPTIONS)
    server = uvicorn.Server(config)
    import uvloop

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)

    async def main() -> None:
        started = loop.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        if shed:  # admission refuses every new order: what a refusal costs
            app.state.admission.max_in_flight = 0
        threading.Thread(target=_control, args=(loop, profile), daemon=True).start()
        sys.stdout.write(f"port {sock.getsockname()[1]}\n")
        sys.stdout.flush()
        await started

    loop.run_until_complete(main())


# ---------------------------------------------------------------- the client (this process)


def _request(token: str, key: str, phone: str, line1: str) -> bytes:
    body = json.dumps(
        {
            "channel": "web",
            "customer": {"name": "Bench", "phone": phone},
            "shipping_address": {
                "province": "Zhejiang",
                "city": "Hangzhou",
                "district": "Xihu",
                "line1": line1,
                "postal_code": "310000",
            },
            "lines": [{"sku": SKU, "quantity": 1}],
            "payment_terms": "on_account",
        },
        separators=(",", ":"),
    ).encode()
    head = (
        "POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def drive(port: int, requests: list[list[bytes]]) -> dict[int, int]:
    """One keep-alive connection per worker, each sending its own list in turn."""
    statuses: dict[int, int] = {}

    async def worker(mine: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for raw in mine:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(worker(mine) for mine in requests))
    return statuses


def _batches(
    private: bytes, count: int, concurrency: int, tag: str, *, token_each: bool = False
) -> list[list[bytes]]:
    """`count` requests over `concurrency` workers: one customer per worker, or per request."""
    from surge_gateway.keys import make_token

    def token(name: str) -> str:
        return make_token(private, subject=f"bench-{tag}-{name}", roles=["customer"])

    batches: list[list[bytes]] = []
    for w in range(concurrency):
        worker = token(str(w))
        batches.append(
            [
                _request(
                    token(f"{w}-{i}") if token_each else worker,
                    uuid.uuid4().hex,
                    f"+86139{uuid.uuid4().int % 10**8:08d}",
                    f"{uuid.uuid4().hex[:12]} Bench Rd",
                )
                for i in range(count // concurrency)
            ]
        )
    return batches


class _Server:
    def __init__(self, profile: str | None, public: bytes, shed: bool) -> None:
        command = [sys.executable, str(_HERE), "--serve", "--public-key", public.decode()]
        if profile:
            command += ["--profile", profile]
        if shed:
            command += ["--shed"]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            raise SystemExit("the gateway did not start")
        self.port = int(line.split()[1])

    def ask(self, command: str) -> float:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def run_once(
    requests: int,
    concurrency: int,
    warmup: int,
    profile: str | None,
    py_spy: str | None,
    principals: int = 0,
    shed: bool = False,
) -> float:
    from surge_gateway.keys import generate_keypair

    private, public = generate_keypair()
    server = _Server(profile, public, shed)
    sampler: subprocess.Popen[bytes] | None = None
    try:
        import uvloop

        warm = _batches(private, warmup, concurrency, "w")
        if principals:  # that many other customers, each seen once, before the clock starts
            warm += _batches(private, principals, concurrency, "p", token_each=True)
        measured = _batches(private, requests, concurrency, "m")
        done = uvloop.run(drive(server.port, warm))
        if py_spy:
            sampler = subprocess.Popen(
                [
                    *os.environ.get("PY_SPY", "py-spy").split(),
                    "record",
                    "--pid",
                    str(server.process.pid),
                    "--rate",
                    "500",
                    "--format",
                    "raw",
                    "--output",
                    py_spy,
                ]
            )
            time.sleep(2)  # py-spy attaches
        started = server.ask("start")
        wall = time.perf_counter()
        statuses = uvloop.run(drive(server.port, measured))
        wall = time.perf_counter() - wall
        cpu = server.ask("stop") - started
    finally:
        if sampler is not None:
            sampler.send_signal(2)  # SIGINT: py-spy writes its output and exits
            sampler.wait(30)
        server.close()
    total = sum(statuses.values())
    expected = {503} if shed else {202}
    if set(statuses) != expected or set(done) != expected:
        raise SystemExit(f"not every order was answered {expected}: {statuses} (warm-up {done})")
    ms = 1000 * cpu / total
    print(
        f"requests={total} concurrency={concurrency} server_cpu_ms_per_request={ms:.3f} "
        f"wall_s={wall:.2f} requests_per_s={total / wall:.0f}",
        flush=True,
    )
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="measured requests per run")
    parser.add_argument("--concurrency", type=int, default=16, help="connections in flight")
    parser.add_argument("--warmup", type=int, default=500, help="requests before measuring")
    parser.add_argument(
        "--principals",
        type=int,
        default=0,
        help="other customers (one order each) placed in the warm-up, as a busy gateway has",
    )
    parser.add_argument("--runs", type=int, default=1, help="fresh server per run; median")
    parser.add_argument("--profile", help="write a cProfile of the server to this path")
    parser.add_argument(
        "--py-spy",
        help="sample the server with py-spy (command from $PY_SPY) into this raw (folded) file",
    )
    parser.add_argument(
        "--shed",
        action="store_true",
        help="admission control refuses every new order: measures what a 503 costs",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--public-key", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.profile, args.public_key.encode(), args.shed)
        return
    figures = [
        run_once(
            args.requests,
            args.concurrency,
            args.warmup,
            args.profile,
            args.py_spy,
            args.principals,
            args.shed,
        )
        for _ in range(args.runs)
    ]
    if len(figures) > 1:
        print(
            f"median server_cpu_ms_per_request={statistics.median(figures):.3f} "
            f"(min {min(figures):.3f}, max {max(figures):.3f}, "
            f"surge_gateway from {os.path.dirname(_gateway_path())})"
        )


def _gateway_path() -> str:
    import surge_gateway

    return str(surge_gateway.__file__)


if __name__ == "__main__":
    main()
