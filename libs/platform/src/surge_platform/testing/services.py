"""Run a Surge service as a real child process (`surge-<name> ...`) for integration and e2e tests.

service = ServiceProcess("inventory", env=service_env("inventory", database_url, nats, prefix))
service.migrate()
service.start()          # returns once gRPC health says SERVING
...
service.stop()           # SIGTERM, then waits; fails loudly if it does not exit in time
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from surge_platform.testing.servers import free_port

__all__ = ["ServiceProcess", "grpc_serving", "service_env"]


def service_env(
    name: str, database_url: str, nats_url: str, nats_prefix: str, **extra: str
) -> dict[str, str]:
    prefix = f"SURGE_{name.upper()}_"
    env = {
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}NATS_URL": nats_url,
        f"{prefix}NATS_PREFIX": nats_prefix,
        f"{prefix}GRPC_HOST": "127.0.0.1",
        f"{prefix}GRPC_PORT": str(free_port()),
        f"{prefix}METRICS_PORT": str(free_port()),
        f"{prefix}LOG_LEVEL": "INFO",
    }
    env.update({f"{prefix}{key.upper()}": value for key, value in extra.items()})
    return env


def grpc_serving(address: str, timeout: float = 0.5) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    args: tuple[str, ...] = ("serve",)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(
        default_factory=lambda: Path(tempfile.mkstemp(prefix="surge-svc-", suffix=".log")[1])
    )

    @property
    def prefix(self) -> str:
        return f"SURGE_{self.name.upper()}_"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.env[self.prefix + 'GRPC_PORT']}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.env[self.prefix + 'METRICS_PORT']}/metrics"

    def _command(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-c",
            f"from surge_{self.name}.entrypoints.cli import main; main()",
            *args,
        ]

    def migrate(self) -> None:
        subprocess.run(
            self._command("migrate"),
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
        )

    def start(self, deadline: float = 30.0) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self._command(*self.args),
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        end = time.monotonic() + deadline
        while not grpc_serving(self.address):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.logs()}")
            if time.monotonic() > end:
                raise TimeoutError(f"{self.name} not SERVING after {deadline}s:\n{self.logs()}")
            time.sleep(0.05)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]

    def kill(self) -> None:
        """SIGKILL: the crash case, no graceful anything."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self, deadline: float = 15.0) -> int:
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(deadline)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:
            self.process = None
        return code
