"""A private whole system (four services + optional gateway) with settings of the test's choosing.

The shared session `system` (tests/system.py) must not be disturbed: these tests stop services,
shorten saga deadlines or export traces, so they start their own processes on the same
PostgreSQL and NATS servers, under their own NATS prefix and databases.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from surge_gateway.keys import ensure_keypair, make_token
from surge_platform.testing.servers import NatsServer, PostgresServer, free_port
from surge_platform.testing.services import ServiceProcess, service_env

from tests.system import PARTICIPANTS, System, _migrate_all, _run

__all__ = ["Gateway", "Stack", "private_stack"]


@dataclass
class Gateway:
    base_url: str
    private_key: bytes
    process: subprocess.Popen[bytes]
    log_path: Path

    def auth(self, role: str, sub: str | None = None) -> dict[str, str]:
        token = make_token(self.private_key, subject=sub or f"{role}-ops", roles=[role])
        return {"Authorization": f"Bearer {token}"}

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Stack:
    system: System
    gateway: Gateway | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


def _start_gateway(system: System, postgres: PostgresServer, extra_env: dict[str, str]) -> Gateway:
    database = f"ops_gateway_{uuid.uuid4().hex[:8]}"
    postgres.psql(f"CREATE DATABASE {database}")
    key_dir = Path(tempfile.mkdtemp(prefix="surge-ops-keys-"))
    private_path, public_path = ensure_keypair(key_dir)
    port = free_port()
    env = {
        "SURGE_GATEWAY_DATABASE_URL": postgres.url(database),
        "SURGE_GATEWAY_ORDER_ADDR": system.address("order"),
        "SURGE_GATEWAY_INVENTORY_ADDR": system.address("inventory"),
        "SURGE_GATEWAY_FULFILLMENT_ADDR": system.address("fulfillment"),
        "SURGE_GATEWAY_BILLING_ADDR": system.address("billing"),
        "SURGE_GATEWAY_JWT_PUBLIC_KEY_FILE": str(public_path),
        "SURGE_GATEWAY_HTTP_HOST": "127.0.0.1",
        "SURGE_GATEWAY_HTTP_PORT": str(port),
        "SURGE_GATEWAY_PLACE_ORDER_TIMEOUT_SECONDS": "10",
        "SURGE_GATEWAY_GRPC_TIMEOUT_SECONDS": "10",
        "SURGE_GATEWAY_ADMISSION_MAX_LATENCY_SECONDS": "30",
        # SSE streams are woken by the order service's status events.
        "SURGE_GATEWAY_NATS_URL": system.nats_url,
        "SURGE_GATEWAY_NATS_PREFIX": system.nats_prefix,
        **extra_env,
    }
    command = [sys.executable, "-c", "from surge_gateway.entrypoints.cli import main; main()"]
    subprocess.run(
        [*command, "migrate"], env={**os.environ, **env}, check=True, capture_output=True
    )
    log_path = Path(tempfile.mkstemp(prefix="surge-ops-gateway-", suffix=".log")[1])
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [*command, "serve"], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    gateway = Gateway(f"http://127.0.0.1:{port}", private_path.read_bytes(), process, log_path)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited at start-up:\n{gateway.logs()[-8000:]}")
        try:
            if httpx.get(f"{gateway.base_url}/readyz", timeout=1).status_code == 200:
                return gateway
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"gateway not ready after 60 s:\n{gateway.logs()[-8000:]}")
        time.sleep(0.05)


def _stop_gateway(gateway: Gateway) -> None:
    gateway.process.send_signal(signal.SIGTERM)
    try:
        gateway.process.wait(15)
    except subprocess.TimeoutExpired:
        gateway.process.kill()
        gateway.process.wait(5)


@asynccontextmanager
async def private_stack(
    postgres: PostgresServer,
    nats: NatsServer,
    *,
    order: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    with_gateway: bool = False,
) -> AsyncIterator[Stack]:
    """Migrate, seed and start the four services (and the gateway); stop them all at the end.

    `order` are extra order settings (without the `SURGE_ORDER_` prefix); `env` is passed to
    every process as is (e.g. `OTEL_*`).
    """
    extra_env = dict(env or {})
    prefix = f"ops{uuid.uuid4().hex[:10]}"
    urls: dict[str, str] = {}
    for name in (*PARTICIPANTS, "order"):
        database = f"ops_{name}_{uuid.uuid4().hex[:8]}"
        postgres.psql(f"CREATE DATABASE {database}")
        urls[name] = postgres.url(database)
    services = {
        name: ServiceProcess(
            name,
            {
                **service_env(
                    name,
                    urls[name],
                    nats.url,
                    prefix,
                    test_failures_enabled="true",
                    shutdown_grace_seconds="3",
                ),
                **extra_env,
            },
        )
        for name in PARTICIPANTS
    }
    services["order"] = ServiceProcess(
        "order",
        {
            **service_env(
                "order",
                urls["order"],
                nats.url,
                prefix,
                inventory_addr=services["inventory"].address,
                inventory_timeout_seconds="10",
                shutdown_grace_seconds="3",
                **(order or {}),
            ),
            **extra_env,
        },
    )
    await asyncio.to_thread(_migrate_all, urls)
    system = System(services, urls, nats.url, prefix)
    stack = Stack(system, extra_env=extra_env)
    try:
        outcomes = await asyncio.gather(
            asyncio.to_thread(_run, services["inventory"], "seed"),
            *(asyncio.to_thread(s.start, 120.0) for s in services.values()),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        if with_gateway:
            stack.gateway = await asyncio.to_thread(_start_gateway, system, postgres, extra_env)
        yield stack
    finally:
        if stack.gateway is not None:
            await asyncio.to_thread(_stop_gateway, stack.gateway)
        await system.close()
        await asyncio.gather(
            *(asyncio.to_thread(s.stop) for s in services.values() if s.process is not None)
        )
