"""`make up` / `make down` as a developer uses them, on private ports and a private state dir."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from surge_platform.testing.servers import free_port, free_port_block

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
COMPONENTS = ("postgres", "nats", "order", "inventory", "fulfillment", "billing", "gateway")


@pytest.fixture
def stack_env(server_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURGE_")}
    env["SURGE_DEV_STATE_DIR"] = str(server_dir / "state")
    for name in COMPONENTS:
        env[f"SURGE_DEV_{name.upper()}_PORT"] = str(free_port())
    env["SURGE_DEV_METRICS_BASE_PORT"] = str(free_port_block(5))  # uses base + 1..4
    return env


def devstack(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "devstack.py"), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=ROOT,
    )


def processes_under(state_dir: str) -> list[psutil.Process]:
    """Every live process of this stack: servers by data dir, services by env file."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            environ = proc.environ() if "surge-" in cmdline else {}
        except psutil.Error:
            continue
        if state_dir in cmdline or environ.get("SURGE_DEV_STATE_DIR") == state_dir:
            found.append(proc)
    return found


def test_up_serves_everything_and_down_leaves_no_process(stack_env: dict[str, str]) -> None:
    state_dir = stack_env["SURGE_DEV_STATE_DIR"]
    started = time.monotonic()
    first = devstack("up", stack_env)
    assert first.returncode == 0, first.stderr
    assert time.monotonic() - started < 60
    gateway = f"http://127.0.0.1:{stack_env['SURGE_DEV_GATEWAY_PORT']}"
    assert gateway in first.stdout
    assert "make down" in first.stdout

    try:
        status = devstack("status", stack_env)
        assert status.stdout.count("SERVING") == 5, status.stdout
        again = devstack("up", stack_env)
        assert again.returncode == 0
        assert "already running" in again.stdout
    finally:
        down = devstack("down", stack_env)
    assert down.returncode == 0, down.stderr
    assert processes_under(state_dir) == []

    # A second `up` reuses the data: the seeded catalog and roles are already there.
    restarted = devstack("up", stack_env)
    try:
        assert restarted.returncode == 0, restarted.stderr
    finally:
        devstack("down", stack_env)
    assert processes_under(state_dir) == []


def test_a_port_in_use_is_a_one_line_error_naming_it(stack_env: dict[str, str]) -> None:
    port = int(stack_env["SURGE_DEV_NATS_PORT"])
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()

        result = devstack("up", stack_env)

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert str(port) in result.stderr
