"""A real `surge-fulfillment` process, its own database and subject prefix, and probes into both.

Starting the process costs seconds of imports on a shared 2-core machine, so the tests of one
module share a service (with the test failure hook on) and isolate themselves by order id: every
test makes its own orders and asserts only about them. The hook-off case starts its own service.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf.message import Message
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2 as pb
from surge.fulfillment.v1 import fulfillment_pb2_grpc
from surge_platform.db import create_engine
from surge_platform.ids import new_id
from surge_platform.messaging import HEADER_MESSAGE_ID, Topology, connect
from surge_platform.migrations import migrate, migrations_of
from surge_platform.testing.servers import NatsServer, PostgresServer
from surge_platform.testing.services import ServiceProcess, service_env

from tests.support import wait_until

MIGRATIONS = migrations_of("surge_fulfillment")

pytestmark = pytest.mark.integration

EVENT_TYPES: tuple[type[Message], ...] = (
    pb.ShipmentsCreated,
    pb.ShipmentsRejected,
    pb.ShipmentsCancelled,
    pb.ShipmentDispatched,
    pb.ShipmentDelivered,
)


@dataclass
class EventLog:
    """Every message the service published on its event subjects, in stream order."""

    topology: Topology
    received: list[Message] = field(default_factory=list)
    last_sequence: int = 0

    async def on_message(self, msg: Msg) -> None:
        for message_type in EVENT_TYPES:
            if msg.subject == self.topology.subject_for(message_type):
                self.received.append(message_type.FromString(msg.data))
        self.last_sequence = msg.metadata.sequence.stream

    def of(self, message_type: type[Message], order_id: str) -> list[Message]:
        return [
            m
            for m in self.received
            if isinstance(m, message_type) and getattr(m, "order_id", None) == order_id
        ]

    async def wait_for(
        self, message_type: type[Message], order_id: str, count: int = 1, deadline: float = 15
    ) -> list[Message]:
        await wait_until(
            lambda: len(self.of(message_type, order_id)) >= count,
            deadline,
            f"{count} {message_type.DESCRIPTOR.name} for order {order_id}",
        )
        return self.of(message_type, order_id)


@dataclass
class Fulfillment:
    """The running service and what a test needs to talk to it."""

    process: ServiceProcess
    engine: AsyncEngine
    js: JetStreamContext
    topology: Topology
    stub: fulfillment_pb2_grpc.FulfillmentServiceAsyncStub
    events: EventLog

    async def send(self, command: Message, message_id: str | None = None) -> None:
        message_id = message_id or new_id()
        await self.js.publish(
            self.topology.subject_for(command),
            command.SerializeToString(),
            headers={HEADER_MESSAGE_ID: message_id, "Nats-Msg-Id": message_id},
        )

    async def published(self, message_type: type[Message], order_id: str) -> list[Message]:
        """Every message of this type published for the order so far: a final answer.

        The relay deletes outbox rows only after JetStream acknowledged them, so once the outbox
        is empty every committed message is in the stream; once the event log has read up to the
        stream's last sequence, it holds all of them.
        """

        async def outbox_empty() -> bool:
            return await self.scalar("SELECT count(*) FROM outbox") == 0

        await wait_until(outbox_empty, 15, "the outbox relay to drain")
        info = await self.js.stream_info(self.topology.stream("fulfillment", "evt"))
        last = info.state.last_seq
        await wait_until(lambda: self.events.last_sequence >= last, 15, "the event log to catch up")
        return self.events.of(message_type, order_id)

    async def scalar(self, sql: str, **params: object) -> object:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()


@contextlib.asynccontextmanager
async def running_fulfillment(
    postgres: PostgresServer, nats: NatsServer, nc: NatsClient, *, test_failures: bool
) -> AsyncIterator[Fulfillment]:
    database = f"t_{uuid.uuid4().hex[:16]}"
    await asyncio.to_thread(postgres.psql, f"CREATE DATABASE {database}")
    database_url = postgres.url(database)
    prefix = f"t{uuid.uuid4().hex[:12]}"
    env = service_env(
        "fulfillment",
        database_url,
        nats.url,
        prefix,
        test_failures_enabled=str(test_failures).lower(),
        log_json="false",
    )
    process = ServiceProcess("fulfillment", env=env)
    # In-process: `surge-fulfillment migrate` would spend seconds importing what we have.
    await asyncio.to_thread(migrate, MIGRATIONS, database_url)
    await asyncio.to_thread(process.start)
    engine = create_engine(database_url, pool_size=2)
    channel = grpc.aio.insecure_channel(process.address)
    topology = Topology(prefix)
    js = nc.jetstream()
    events = EventLog(topology)
    subscription = await js.subscribe(
        f"{prefix}.fulfillment.evt.>", cb=events.on_message, ordered_consumer=True
    )
    try:
        yield Fulfillment(
            process=process,
            engine=engine,
            js=js,
            topology=topology,
            stub=fulfillment_pb2_grpc.FulfillmentServiceStub(channel),
            events=events,
        )
    finally:
        await subscription.unsubscribe()
        await channel.close()
        await engine.dispose()
        code = await asyncio.to_thread(process.stop)
        assert code == 0, f"fulfillment did not stop cleanly:\n{process.logs()}"


@pytest.fixture(scope="module")
async def nc(nats_server: NatsServer) -> AsyncIterator[NatsClient]:
    client = await connect(nats_server.url, "fulfillment-test")
    yield client
    await client.drain()


@pytest.fixture(scope="module")
async def fulfillment(
    postgres_server: PostgresServer, nats_server: NatsServer, nc: NatsClient
) -> AsyncIterator[Fulfillment]:
    """The module's shared service, with the FAIL-SHIP- test hook enabled."""
    async with running_fulfillment(postgres_server, nats_server, nc, test_failures=True) as svc:
        yield svc


@pytest.fixture
async def fulfillment_without_test_hook(
    postgres_server: PostgresServer, nats_server: NatsServer, nc: NatsClient
) -> AsyncIterator[Fulfillment]:
    async with running_fulfillment(postgres_server, nats_server, nc, test_failures=False) as svc:
        yield svc


def zhejiang() -> common_pb2.Address:
    return common_pb2.Address(
        province="Zhejiang",
        city="Hangzhou",
        district="Xihu",
        line1="18 Wensan Road",
        postal_code="310000",
    )


def create_command(
    order_id: str,
    items: list[tuple[str, str, int, int]],
    address: common_pb2.Address | None = None,
) -> pb.CreateShipmentsCommand:
    """`items` are (sku, warehouse, quantity, weight of those units in grams)."""
    return pb.CreateShipmentsCommand(
        saga_id=new_id(),
        order_id=order_id,
        address=address or zhejiang(),
        items=[
            pb.ShipmentItem(sku=sku, warehouse=warehouse, quantity=quantity, weight_grams=grams)
            for sku, warehouse, quantity, grams in items
        ],
    )
