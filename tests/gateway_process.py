"""The gateway as a real `surge-gateway` process in front of a running system.

Shared by the e2e suite (one gateway for the session) and the operations tests (a gateway per
private stack): settings, the CLI, start-up until /readyz answers, and stop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.system import System

__all__ = ["GatewayServer", "gateway_cli", "gateway_env", "start_gateway"]

_COMMAND = (sys.executable, "-c", "from surge_gateway.entrypoints.cli import main; main()")


def gateway_env(
    system: System, database_url: str, public_key: Path, port: int, **settings: str
) -> dict[str, str]:
    """The environment of a gateway in front of `system`, listening on 127.0.0.1:`port`, with
    generous deadlines for a busy test machine; `settings` add or override
    `SURGE_GATEWAY_<NAME>` values (lower-case names)."""
    env = {
        "SURGE_GATEWAY_DATABASE_URL": database_url,
        "SURGE_GATEWAY_ORDER_ADDR": system.address("order"),
        "SURGE_GATEWAY_INVENTORY_ADDR": system.address("inventory"),
        "SURGE_GATEWAY_FULFILLMENT_ADDR": system.address("fulfillment"),
        "SURGE_GATEWAY_BILLING_ADDR": system.address("billing"),
        "SURGE_GATEWAY_JWT_PUBLIC_KEY_FILE": str(public_key),
        "SURGE_GATEWAY_HTTP_HOST": "127.0.0.1",
        "SURGE_GATEWAY_HTTP_PORT": str(port),
        "SURGE_GATEWAY_PLACE_ORDER_TIMEOUT_SECONDS": "10",
        "SURGE_GATEWAY_GRPC_TIMEOUT_SECONDS": "10",
        "SURGE_GATEWAY_ADMISSION_MAX_LATENCY_SECONDS": "30",
    }
    env.update({f"SURGE_GATEWAY_{name.upper()}": value for name, value in settings.items()})
    return env


def gateway_cli(*args: str, env: dict[str, str]) -> str:
    """Run `surge-gateway <args>` to completion; its last line of output."""
    done = subprocess.run(
        [*_COMMAND, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"surge-gateway {' '.join(args)} failed:\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


@dataclass
class GatewayServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def start_gateway(env: dict[str, str], *, ready_within: float = 60.0) -> GatewayServer:
    """Start `surge-gateway serve` (already migrated) and wait until /readyz answers 200."""
    log_path = Path(tempfile.mkstemp(prefix="surge-gateway-", suffix=".log")[1])
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [*_COMMAND, "serve"], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    server = GatewayServer(f"http://127.0.0.1:{env['SURGE_GATEWAY_HTTP_PORT']}", process, log_path)
    deadline = time.monotonic() + ready_within
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited at start-up:\n{server.logs()[-8000:]}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise TimeoutError(
                f"gateway not ready after {ready_within:.0f} s:\n{server.logs()[-8000:]}"
            )
        time.sleep(0.05)
