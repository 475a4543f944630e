"""A private whole system (four services + optional gateway) with settings of the test's choosing.

The shared session `system` (tests/system.py) must not be disturbed: these tests stop services,
shorten saga deadlines or export traces, so they start their own processes on the same
PostgreSQL and NATS servers, under their own NATS prefix and databases.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from surge_gateway.keys import ensure_keypair, make_token
from surge_platform.testing.servers import NatsServer, PostgresServer, free_port
from surge_platform.testing.services import ServiceProcess, service_env

from tests.gateway_process import GatewayServer, gateway_cli, gateway_env, start_gateway
from tests.system import PARTICIPANTS, System, _migrate_all, _run

__all__ = ["Gateway", "Stack", "private_stack"]


@dataclass
class Gateway:
    server: GatewayServer
    private_key: bytes

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def auth(self, role: str, sub: str | None = None) -> dict[str, str]:
        token = make_token(self.private_key, subject=sub or f"{role}-ops", roles=[role])
        return {"Authorization": f"Bearer {token}"}

    def logs(self) -> str:
        return self.server.logs()


@dataclass
class Stack:
    system: System
    gateway: Gateway | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


def _start_gateway(system: System, postgres: PostgresServer, extra_env: dict[str, str]) -> Gateway:
    database = f"ops_gateway_{uuid.uuid4().hex[:8]}"
    postgres.psql(f"CREATE DATABASE {database}")
    private_path, public_path = ensure_keypair(Path(tempfile.mkdtemp(prefix="surge-ops-keys-")))
    env = {
        **gateway_env(
            system,
            postgres.url(database),
            public_path,
            free_port(),
            # SSE streams are woken by the order service's status events.
            nats_url=system.nats_url,
            nats_prefix=system.nats_prefix,
        ),
        **extra_env,
    }
    gateway_cli("migrate", env=env)
    return Gateway(start_gateway(env), private_path.read_bytes())


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
            await asyncio.to_thread(stack.gateway.server.stop)
        await system.close()
        await asyncio.gather(
            *(asyncio.to_thread(s.stop) for s in services.values() if s.process is not None)
        )
