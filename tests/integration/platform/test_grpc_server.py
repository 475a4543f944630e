"""The gRPC host reports a busy port clearly instead of grpc's generic bind failure."""

from __future__ import annotations

import socket

import pytest
from prometheus_client import CollectorRegistry
from surge_platform.grpc import create_server, start_server
from surge_platform.telemetry import PlatformMetrics


async def test_a_busy_grpc_port_is_an_error_naming_it() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        server, health = create_server(PlatformMetrics(CollectorRegistry()))

        with pytest.raises(OSError, match=f"cannot bind gRPC port 127.0.0.1:{port}"):
            await start_server(server, health, "127.0.0.1", port, [])
