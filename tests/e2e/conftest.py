"""The gateway as a real uvicorn process in front of the whole system (`tests.system`).

`gateway` (session) migrates its own database, creates one API key per channel with the real
`surge-gateway channel-key` command, starts `surge-gateway serve` on a free port and waits for
/readyz. Tests talk to it over real HTTP with httpx.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import tempfile
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

from tests.gateway_process import GatewayServer, gateway_cli, gateway_env, start_gateway
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
    server: GatewayServer
    key_dir: Path

    def auth(self, role: str, sub: str | None = None) -> dict[str, str]:
        token = make_token(self.private_key, subject=sub or f"{role}-e2e", roles=[role])
        return {"Authorization": f"Bearer {token}"}

    def logs(self) -> str:
        return self.server.logs()[-8000:]


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
    env = gateway_env(
        system,
        postgres_server.url(database),
        public_path,
        free_port(),
        rate_limits='{"customer": "2000/second", "channel": "2000/second"}',
        idempotency_wait_seconds="20",
        sse_poll_seconds="0.05",
    )
    gateway_cli("migrate", env=env)
    # The real command once; the other keys in-process (each CLI start costs seconds here).
    channel_keys = {"tmall": gateway_cli("channel-key", "tmall", env=env)}
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
    server = start_gateway(env)
    try:
        yield GatewayProcess(
            server.base_url,
            private_path.read_bytes(),
            channel_keys,
            carrier_key,
            system,
            server,
            key_dir,
        )
    finally:
        server.stop()


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
