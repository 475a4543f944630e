from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import create_engine
from surge_platform.messaging import Topology, connect
from surge_platform.migrations import MESSAGING_DDL
from surge_platform.telemetry import PlatformMetrics
from surge_platform.testing.servers import NatsServer

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    async with engine.begin() as conn:
        for statement in MESSAGING_DDL:
            await conn.execute(text(statement))
        await conn.execute(text("CREATE TABLE effects (key text PRIMARY KEY, hits int NOT NULL)"))
    yield engine
    await engine.dispose()


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NatsClient]:
    client = await connect(nats_server.url, "test")
    yield client
    await client.drain()


@pytest.fixture
async def js(nc: NatsClient, topology: Topology) -> JetStreamContext:
    context = nc.jetstream()
    await topology.ensure_streams(context)
    return context


@pytest.fixture
def topology(nats_prefix: str) -> Topology:
    return Topology(nats_prefix)


@pytest.fixture
def metrics() -> PlatformMetrics:
    return PlatformMetrics(CollectorRegistry())
