"""pytest plugin: session-wide PostgreSQL and NATS, per-test databases and subject prefixes.

Fixtures:
- `postgres_server` (session): a running `PostgresServer` (fsync off: tests, not durability).
- `nats_server` (session): a running `NatsServer` with JetStream.
- `database_url` (test): a fresh, empty database of its own, as a postgresql+asyncpg URL.
- `nats_prefix` (test): a unique subject/stream prefix so tests sharing NATS never meet.
- `server_dir` (test): a fresh directory for a test's own servers (PostgreSQL can traverse it).

`SURGE_TEST_BACKEND=containers` starts the same two servers as containers with testcontainers
(for machines with a Docker engine, e.g. developer laptops); the default, `processes`, needs
nothing but the wheels. Either way tests see the same `PostgresServer` / `NatsServer` objects.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from surge_platform.testing.servers import NatsServer, PostgresServer, free_port

# Same major versions as the wheels the default backend runs.
POSTGRES_IMAGE = "postgres:18-alpine"
NATS_IMAGE = "nats:2.11-alpine"


def _backend() -> str:
    backend = os.environ.get("SURGE_TEST_BACKEND", "processes")
    if backend not in {"processes", "containers"}:
        raise pytest.UsageError(f"SURGE_TEST_BACKEND must be processes or containers: {backend}")
    return backend


@contextlib.contextmanager
def _server_root(prefix: str) -> Iterator[Path]:
    # Not under pytest's tmp_path: PostgreSQL runs as its own user and must traverse every
    # parent of its data directory, and each pytest session that starts (another engineer's,
    # in parallel) resets /tmp/pytest-of-<user> to 0700.
    with tempfile.TemporaryDirectory(prefix=prefix) as root:
        os.chmod(root, 0o755)
        yield Path(root)


@pytest.fixture(scope="session")
def surge_tmp() -> Iterator[Path]:
    with _server_root("surge-test-") as root:
        yield root


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A fresh directory for one test's own PostgreSQL, NATS or whole stack."""
    with _server_root("surge-servers-") as root:
        yield root


@pytest.fixture(scope="session")
def postgres_server(surge_tmp: Path) -> Iterator[PostgresServer]:
    if _backend() == "containers":
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, password="surge-test", driver=None) as pg:
            yield PostgresServer(
                surge_tmp / "postgres",
                int(pg.get_exposed_port(5432)),
                "surge-test",
                host=pg.get_container_host_ip(),
            )
        return
    server = PostgresServer(surge_tmp / "postgres", free_port())
    server.start(fsync=False)
    try:
        yield server
    finally:
        server.stop("immediate")


@pytest.fixture(scope="session")
def nats_server(surge_tmp: Path) -> Iterator[NatsServer]:
    if _backend() == "containers":
        from testcontainers.community.nats import NatsContainer

        with NatsContainer(NATS_IMAGE, jetstream=True) as nats:
            yield NatsServer(
                surge_tmp / "nats",
                int(nats.get_exposed_port(4222)),
                host=nats.get_container_host_ip(),
            )
        return
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
