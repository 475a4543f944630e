"""The gRPC host reports a busy port clearly instead of grpc's generic bind failure, and answers
a database outage with UNAVAILABLE (retry later) rather than INTERNAL."""

from __future__ import annotations

import socket
from typing import Any

import grpc
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import exc as sa_exc
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


async def test_a_database_outage_is_unavailable_not_internal() -> None:
    async def pool_exhausted(request: bytes, context: Any) -> bytes:
        raise sa_exc.TimeoutError("QueuePool limit reached")

    async def bug(request: bytes, context: Any) -> bytes:
        raise RuntimeError("a bug")

    server, health = create_server(PlatformMetrics(CollectorRegistry()))
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "test.Probe",
                {
                    "Pool": grpc.unary_unary_rpc_method_handler(pool_exhausted),
                    "Bug": grpc.unary_unary_rpc_method_handler(bug),
                },
            )
        ]
    )
    port = await start_server(server, health, "127.0.0.1", 0, [])
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            expected = {"Pool": grpc.StatusCode.UNAVAILABLE, "Bug": grpc.StatusCode.INTERNAL}
            for method, code in expected.items():
                with pytest.raises(grpc.aio.AioRpcError) as failed:
                    await channel.unary_unary(f"/test.Probe/{method}")(b"", timeout=5)
                assert failed.value.code() == code
    finally:
        await server.stop(None)
