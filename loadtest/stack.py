"""A private Surge stack whose processes we own one by one: for chaos runs and scaling runs.

`make up` runs the services under honcho, which stops all of them when one dies, so a SIGKILL
would take the whole stack down. Here PostgreSQL, NATS, the four gRPC services and the gateway are
separate children on free 127.0.0.1 ports under one directory, and each can be killed, paused
and restarted with the same data directory and ports. `consumers=2` adds a second
`serve --role consumer` process for order, inventory and fulfillment (the scaling measurement).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from surge_gateway.adapters.postgres import PgApiKeyStore
from surge_gateway.auth import hash_api_key
from surge_gateway.keys import ensure_keypair
from surge_platform.db import create_engine
from surge_platform.migrations import migrate, migrations_of
from surge_platform.testing.servers import NatsServer, PostgresServer, free_port, wait_for_port
from surge_platform.testing.services import ServiceProcess, service_env

__all__ = ["SCALED", "SERVICES", "Stack"]

SERVICES = ("inventory", "fulfillment", "billing", "order")
SCALED = ("order", "inventory", "fulfillment")
GATEWAY_MAIN = "from surge_gateway.entrypoints.cli import main; main()"


class ConsumerProcess(ServiceProcess):
    """`serve --role consumer`: no gRPC server, so it is up once its /metrics port listens."""

    def start(self, deadline: float = 30.0) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self._command(*self.args),
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(int(self.env[self.prefix + "METRICS_PORT"]), deadline)


@dataclass
class GatewayProcess:
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['SURGE_GATEWAY_HTTP_PORT']}"

    def start(self, deadline: float = 60.0) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", GATEWAY_MAIN, "serve"],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("gateway not ready")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None


@dataclass
class Stack:
    root: Path
    consumers: int = 1
    service_settings: dict[str, str] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    extra: list[ServiceProcess] = field(default_factory=list)
    gateway: GatewayProcess | None = None
    channel_key: str = ""

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.pg = PostgresServer(self.root / "postgres", free_port())
        self.nats = NatsServer(self.root / "nats", free_port())
        self.prefix = f"chaos{uuid.uuid4().hex[:6]}"
        self.key_dir = self.root / "keys"

    @property
    def host(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    def metrics_urls(self) -> dict[str, str]:
        urls = {name: p.metrics_url for name, p in self.processes.items()}
        urls.update({f"{p.name}-consumer-{i}": p.metrics_url for i, p in enumerate(self.extra)})
        return urls

    def start(self) -> None:
        self.pg.start()  # durable commits: a crash must not lose a commit the relay saw
        self.nats.start()
        urls = {}
        for name in (*SERVICES, "gateway"):
            self.pg.psql(f"CREATE DATABASE surge_{name}")
            urls[name] = self.pg.url(f"surge_{name}")
        for name, url in urls.items():
            migrate(migrations_of(f"surge_{name}"), url)
        settings = {"shutdown_grace_seconds": "3", **self.service_settings}
        for name in SERVICES:
            extra = dict(settings)
            if name == "order":
                extra["inventory_addr"] = self.processes["inventory"].address
            self.processes[name] = ServiceProcess(
                name, service_env(name, urls[name], self.nats.url, self.prefix, **extra)
            )
        subprocess.run(
            self.processes["inventory"]._command("seed"),
            env={**os.environ, **self.processes["inventory"].env},
            check=True,
            capture_output=True,
        )
        for name in SCALED[: len(SCALED) if self.consumers > 1 else 0]:
            for _ in range(self.consumers - 1):
                env = dict(self.processes[name].env)
                prefix = f"SURGE_{name.upper()}_"
                env[prefix + "GRPC_PORT"] = str(free_port())
                env[prefix + "METRICS_PORT"] = str(free_port())
                self.extra.append(ConsumerProcess(name, env, args=("serve", "--role", "consumer")))
        for process in [*self.processes.values(), *self.extra]:
            process.start(120)
        _, public = ensure_keypair(self.key_dir)
        self.channel_key = f"sk_channel_{uuid.uuid4().hex}"
        asyncio.run(_store_key(urls["gateway"], "channel", "tmall", self.channel_key))
        self.gateway = GatewayProcess(
            {
                "SURGE_GATEWAY_DATABASE_URL": urls["gateway"],
                **{f"SURGE_GATEWAY_{n.upper()}_ADDR": self.processes[n].address for n in SERVICES},
                "SURGE_GATEWAY_JWT_PUBLIC_KEY_FILE": str(public),
                "SURGE_GATEWAY_HTTP_HOST": "127.0.0.1",
                "SURGE_GATEWAY_HTTP_PORT": str(free_port()),
                "SURGE_GATEWAY_LOG_LEVEL": "WARNING",
            },
            self.root / "gateway.log",
        )
        self.gateway.start()

    def kill(self, name: str) -> None:
        """SIGKILL one component: a service, "gateway", "nats" or "postgres" (immediate stop)."""
        if name == "gateway":
            assert self.gateway is not None
            self.gateway.kill()
        elif name == "nats":
            assert self.nats.process is not None
            self.nats.process.kill()
            self.nats.process.wait(10)
            self.nats.process = None
        elif name == "postgres":
            self.pg.stop(mode="immediate")
        else:
            self.processes[name].kill()

    def revive(self, name: str) -> None:
        """Start a killed component again, with the same data directory and ports."""
        if name == "gateway":
            assert self.gateway is not None
            self.gateway.start()
        elif name == "nats":
            self.nats.start()
        elif name == "postgres":
            self.pg.start()
        else:
            self.processes[name].start(120)

    def pid(self, name: str) -> int:
        if name == "gateway":
            assert self.gateway is not None
            process = self.gateway.process
        else:
            process = self.processes[name].process
        assert process is not None
        return process.pid

    def pause(self, name: str, seconds: float) -> None:
        """SIGSTOP, wait, SIGCONT: the process is alive but answers nothing meanwhile."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    def logs(self) -> str:
        parts = [f"--- {p.name}\n{p.logs()[-3000:]}" for p in self.processes.values()]
        if self.gateway is not None and self.gateway.log_path.exists():
            parts.append(f"--- gateway\n{self.gateway.log_path.read_text()[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        for process in [*self.extra, *self.processes.values()]:
            try:
                process.stop()
            except (subprocess.TimeoutExpired, OSError):
                process.kill()
        self.nats.stop()
        self.pg.stop()


async def _store_key(database_url: str, kind: str, name: str, key: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        await PgApiKeyStore(engine).put(kind, name, hash_api_key(key))
    finally:
        await engine.dispose()
