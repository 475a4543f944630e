"""pytest plugin: session-wide PostgreSQL and NATS, per-test databases and subject prefixes.

Fixtures:
- `postgres_server` (session): a running `PostgresServer` (fsync off: tests, not durability).
- `nats_server` (session): a running `NatsServer` with JetStream.
- `database_url` (test): a fresh, empty database of its own, as a postgresql+asyncpg URL.
- `nats_prefix` (test): a unique subject/stream prefix so tests sharing NATS never meet.

`SURGE_TEST_BACKEND=containers` is reserved for machines with a Docker engine (testcontainers);
the default, `processes`, needs nothing but the wheels.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from surge_platform.testing.servers import NatsServer, PostgresServer, free_port


def _backend() -> str:
    backend = os.environ.get("SURGE_TEST_BACKEND", "processes")
    if backend not in {"processes", "containers"}:
        raise pytest.UsageError(f"SURGE_TEST_BACKEND must be processes or containers: {backend}")
    return backend


@pytest.fixture(scope="session")
def surge_tmp() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="surge-test-") as root:
        os.chmod(root, 0o755)
        yield Path(root)


@pytest.fixture(scope="session")
def postgres_server(surge_tmp: Path) -> Iterator[PostgresServer]:
    if _backend() == "containers":
        pytest.skip("containers backend needs a Docker engine and testcontainers")
    server = PostgresServer(surge_tmp / "postgres", free_port())
    server.start(fsync=False)
    try:
        yield server
    finally:
        server.stop("immediate")


@pytest.fixture(scope="session")
def nats_server(surge_tmp: Path) -> Iterator[NatsServer]:
    if _backend() == "containers":
        pytest.skip("containers backend needs a Docker engine and testcontainers")
    server = NatsServer(surge_tmp / "nats", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    postgres_server.psql(f"CREATE DATABASE {name}")
    return postgres_server.url(name)


@pytest.fixture
def nats_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"
