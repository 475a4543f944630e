"""The gateway as a real uvicorn process in front of the whole system (`tests.system`).

`gateway` (session) migrates its own database, creates one API key per channel with the real
`surge-gateway channel-key` command, starts `surge-gateway serve` on a free port and waits for
/readyz. Tests talk to it over real HTTP with httpx.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from surge_gateway.adapters.postgres import PgApiKeyStore
from surge_gateway.auth import hash_api_key
from surge_gateway.keys import ensure_keypair, make_token
from surge_platform.db import create_engine
from surge_platform.testing.servers import PostgresServer, free_port

from tests.system import System

CHANNELS = ("web", "tmall", "jd", "douyin")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Schemathesis fuzzes as an admin and so creates real promotions (and rules) that apply to
    every order of the shared system: it runs after every other test of the session."""
    items.sort(key=lambda item: "test_schemathesis" in item.nodeid)


@dataclass
class GatewayProcess:
    base_url: str
    private_key: bytes
    channel_keys: dict[str, str]
    carrier_key: str
    system: System
    log_path: Path
    key_dir: Path

    def auth(self, role: str, sub: str | None = None) -> dict[str, str]:
        token = make_token(self.private_key, subject=sub or f"{role}-e2e", roles=[role])
        return {"Authorization": f"Bearer {token}"}

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]


def _cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from surge_gateway.entrypoints.cli import main; main()", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"surge-gateway {' '.join(args)} failed:\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


async def _store_keys(database_url: str, keys: dict[tuple[str, str], str]) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        for (kind, name), key in keys.items():
            await PgApiKeyStore(engine).put(kind, name, hash_api_key(key))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def gateway_process(system: System, postgres_server: PostgresServer) -> Iterator[GatewayProcess]:
    database = f"sys_gateway_{uuid.uuid4().hex[:8]}"
    postgres_server.psql(f"CREATE DATABASE {database}")
    key_dir = Path(tempfile.mkdtemp(prefix="surge-gw-keys-"))
    private_path, public_path = ensure_keypair(key_dir)
    port = free_port()
    env = {
        "SURGE_GATEWAY_DATABASE_URL": postgres_server.url(database),
        "SURGE_GATEWAY_ORDER_ADDR": system.address("order"),
        "SURGE_GATEWAY_INVENTORY_ADDR": system.address("inventory"),
        "SURGE_GATEWAY_FULFILLMENT_ADDR": system.address("fulfillment"),
        "SURGE_GATEWAY_BILLING_ADDR": system.address("billing"),
        "SURGE_GATEWAY_JWT_PUBLIC_KEY_FILE": str(public_path),
        "SURGE_GATEWAY_HTTP_HOST": "127.0.0.1",
        "SURGE_GATEWAY_HTTP_PORT": str(port),
        "SURGE_GATEWAY_RATE_LIMITS": '{"customer": "2000/second", "channel": "2000/second"}',
        "SURGE_GATEWAY_IDEMPOTENCY_WAIT_SECONDS": "20",
        "SURGE_GATEWAY_PLACE_ORDER_TIMEOUT_SECONDS": "10",
        "SURGE_GATEWAY_GRPC_TIMEOUT_SECONDS": "10",
        "SURGE_GATEWAY_ADMISSION_MAX_LATENCY_SECONDS": "30",
        "SURGE_GATEWAY_SSE_POLL_SECONDS": "0.05",
    }
    _cli("migrate", env=env)
    # The real command once; the other keys in-process (each CLI start costs seconds here).
    channel_keys = {"tmall": _cli("channel-key", "tmall", env=env)}
    channel_keys.update(
        {name: f"sk_channel_{uuid.uuid4().hex}" for name in CHANNELS if name != "tmall"}
    )
    carrier_key = f"sk_carrier_{uuid.uuid4().hex}"
    stored = {
        **{("channel", n): k for n, k in channel_keys.items() if n != "tmall"},
        ("carrier", "sf-express"): carrier_key,
    }
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _store_keys(env["SURGE_GATEWAY_DATABASE_URL"], stored)).result()
    log_path = Path(tempfile.mkstemp(prefix="surge-gateway-", suffix=".log")[1])
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from surge_gateway.entrypoints.cli import main; main()",
                "serve",
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = GatewayProcess(
        f"http://127.0.0.1:{port}",
        private_path.read_bytes(),
        channel_keys,
        carrier_key,
        system,
        log_path,
        key_dir,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gateway exited at start-up:\n{running.logs()}")
            try:
                if httpx.get(f"{running.base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"gateway not ready after 30 s:\n{running.logs()}")
            time.sleep(0.05)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
async def http(gateway_process: GatewayProcess) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(
        base_url=gateway_process.base_url, timeout=30, limits=limits
    ) as client:
        yield client


@pytest.fixture
def gateway(gateway_process: GatewayProcess) -> GatewayProcess:
    return gateway_process
