"""Every service starts, migrates its own database, serves health and metrics, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from surge_platform.testing.servers import NatsServer
from surge_platform.testing.services import ServiceProcess, service_env

pytestmark = pytest.mark.integration

GRPC_SERVICES = ("order", "inventory", "fulfillment", "billing")


@pytest.mark.parametrize("name", [*GRPC_SERVICES, "gateway"])
def test_a_missing_setting_stops_start_up_within_two_seconds_naming_it(name: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURGE_")}
    started = time.monotonic()

    done = subprocess.run(
        [sys.executable, "-c", f"from surge_{name}.entrypoints.cli import main; main()", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )

    assert time.monotonic() - started < 2.0
    assert done.returncode != 0
    assert f"SURGE_{name.upper()}_DATABASE_URL" in done.stderr


@pytest.mark.parametrize("name", GRPC_SERVICES)
async def test_service_serves_health_and_metrics_and_stops_within_ten_seconds(
    name: str, database_url: str, nats_server: NatsServer, nats_prefix: str
) -> None:
    service = ServiceProcess(
        name,
        service_env(name, database_url, nats_server.url, nats_prefix, inventory_addr="127.0.0.1:1"),
    )
    await asyncio.to_thread(service.migrate)
    await asyncio.to_thread(service.start)
    try:
        with urllib.request.urlopen(service.metrics_url, timeout=5) as reply:
            body = reply.read().decode()
        assert "surge_outbox_published_total" in body
    finally:
        started = time.monotonic()
        code = await asyncio.to_thread(service.stop, 10.0)
        elapsed = time.monotonic() - started
    assert code == 0, service.logs()
    assert elapsed < 10.0
