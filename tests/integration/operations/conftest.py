"""One private system (short saga deadlines, a watched SKU, a gateway) for every operations test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from surge_platform.testing.servers import NatsServer, PostgresServer

from tests.integration.operations.stack import Stack, private_stack

STEP_DEADLINE_SECONDS = 2.5
# Only tests/integration/operations/test_admin_operations.py uses this SKU.
WATCHED_SKU = "OPS-WATCHED-1"


@pytest.fixture(scope="package")
async def stack(postgres_server: PostgresServer, nats_server: NatsServer) -> AsyncIterator[Stack]:
    order = {
        "step_deadline_seconds": str(STEP_DEADLINE_SECONDS),
        "step_backoff_max_seconds": str(STEP_DEADLINE_SECONDS),
        "max_step_attempts": "2",
        "sweep_interval_seconds": "0.2",
    }
    env = {
        "SURGE_INVENTORY_WATCHED_SKUS": json.dumps([WATCHED_SKU]),
        "SURGE_INVENTORY_WATCHED_LOWEST_SKUS": "0",
        "SURGE_INVENTORY_STOCK_GAUGE_INTERVAL_SECONDS": "0.3",
        # Long enough that an SSE event arriving within seconds can only have been pushed.
        "SURGE_GATEWAY_SSE_FALLBACK_POLL_SECONDS": "30",
    }
    async with private_stack(
        postgres_server, nats_server, order=order, env=env, with_gateway=True
    ) as s:
        yield s
