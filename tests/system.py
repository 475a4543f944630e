"""The whole Surge back end as real processes: a session-scoped `system` fixture.

`system` creates one database per service on `postgres_server`, uses one NATS prefix for the
session, migrates and starts inventory, fulfillment, billing and order (`surge-<name> serve`, via
`ServiceProcess`), seeds the inventory's warehouses, and exposes gRPC stubs. Participants run
with `TEST_FAILURES_ENABLED=true` (FAIL-RESERVE-/FAIL-SHIP-/FAIL-INVOICE- SKUs fail their step).
Tests share the processes, so every test uses its own SKUs and customer ids
(`System.unique()`), never shared state.

Order runs with a short unpaid timeout (`UNPAID_TIMEOUT_SECONDS`) so a test can watch an unpaid
order expire; tests that pay do so as soon as the order is pending payment.

Register with `pytest_plugins = ["tests.system"]` in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message
from surge.billing.v1 import billing_pb2_grpc, credit_notes_pb2_grpc
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2_grpc
from surge.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from surge.order.v1 import order_pb2_grpc, returns_pb2_grpc
from surge_platform.messaging import HEADER_MESSAGE_ID, HEADER_TYPE, Topology, connect
from surge_platform.migrations import migrate, migrations_of
from surge_platform.testing.servers import NatsServer, PostgresServer
from surge_platform.testing.services import ServiceProcess, service_env

__all__ = ["UNPAID_TIMEOUT_SECONDS", "System", "system"]

SOLD_OUT_HOLD_SECONDS = 30
UNPAID_TIMEOUT_SECONDS = 5
REVIEW_ESCALATION_SECONDS = 3
REFUND_ESCALATION_SECONDS = 2
REPO = Path(__file__).resolve().parents[1]
PARTICIPANTS = ("inventory", "fulfillment", "billing")


@dataclass
class System:
    """Four running services and async gRPC stubs to each."""

    services: dict[str, ServiceProcess]
    database_urls: dict[str, str]
    nats_url: str
    nats_prefix: str
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    def _channel(self, name: str) -> grpc.aio.Channel:
        if name not in self._channels:
            self._channels[name] = grpc.aio.insecure_channel(self.services[name].address)
        return self._channels[name]

    @property
    def order(self) -> order_pb2_grpc.OrderServiceStub:
        return order_pb2_grpc.OrderServiceStub(self._channel("order"))

    @property
    def inventory(self) -> inventory_pb2_grpc.InventoryServiceStub:
        return inventory_pb2_grpc.InventoryServiceStub(self._channel("inventory"))

    @property
    def fulfillment(self) -> fulfillment_pb2_grpc.FulfillmentServiceStub:
        return fulfillment_pb2_grpc.FulfillmentServiceStub(self._channel("fulfillment"))

    @property
    def billing(self) -> billing_pb2_grpc.BillingServiceStub:
        return billing_pb2_grpc.BillingServiceStub(self._channel("billing"))

    @property
    def returns(self) -> returns_pb2_grpc.ReturnServiceStub:
        return returns_pb2_grpc.ReturnServiceStub(self._channel("order"))

    @property
    def refunds(self) -> credit_notes_pb2_grpc.RefundServiceStub:
        return credit_notes_pb2_grpc.RefundServiceStub(self._channel("billing"))

    def address(self, name: str) -> str:
        return self.services[name].address

    @staticmethod
    def unique(prefix: str = "T") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"

    async def kill_order(self) -> None:
        """SIGKILL the order service: no graceful anything."""
        await asyncio.to_thread(self.services["order"].kill)

    async def start_order(self) -> None:
        await asyncio.to_thread(self.services["order"].start)

    async def restart_order(self) -> None:
        await self.kill_order()
        await self.start_order()

    async def create_sku(
        self,
        code: str,
        stock: dict[str, int],
        *,
        price_minor: int = 1_000,
        weight_grams: int = 200,
        active: bool = True,
    ) -> None:
        """A catalog SKU with `stock` units per warehouse (warehouses from the inventory seed)."""
        await self.inventory.CreateSku(
            inventory_pb2.CreateSkuRequest(
                sku=inventory_pb2.Sku(
                    sku=code,
                    name=f"Test {code}",
                    unit_price=common_pb2.Money(amount_minor=price_minor, currency="CNY"),
                    weight_grams=weight_grams,
                    category="test",
                    active=active,
                )
            ),
            timeout=10,
        )
        for warehouse, units in stock.items():
            await self.inventory.AdjustStock(
                inventory_pb2.AdjustStockRequest(
                    sku=code, warehouse=warehouse, quantity=units, reason="test", actor="test"
                ),
                timeout=10,
            )

    async def publish(self, message: Message) -> None:
        """Publish `message` on its contract subject with a fresh message id, as a relay would
        (e.g. to deliver a reply a second time)."""
        client = await connect(self.nats_url, "surge-test")
        try:
            message_id = str(uuid.uuid4())
            await client.jetstream().publish(
                Topology(self.nats_prefix).subject_for(message),
                message.SerializeToString(),
                headers={
                    HEADER_MESSAGE_ID: message_id,
                    HEADER_TYPE: message.DESCRIPTOR.full_name,
                    "Nats-Msg-Id": message_id,
                },
            )
        finally:
            await client.drain()

    async def order_consumers_idle(self) -> bool:
        """True when the order service has applied every event published to it so far."""
        client = await connect(self.nats_url, "surge-test")
        try:
            js = client.jetstream()
            topology = Topology(self.nats_prefix)
            for context in PARTICIPANTS:
                info = await js.consumer_info(
                    topology.stream(context, "evt"), f"order-{context}-events"
                )
                if info.num_pending or info.num_ack_pending:
                    return False
            return True
        finally:
            await client.drain()

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()


def _run(service: ServiceProcess, *args: str) -> None:
    done = subprocess.run(
        service._command(*args),
        env={**os.environ, **service.env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"surge-{service.name} {' '.join(args)} failed:\n{done.stderr}")


def _migrate_all(urls: dict[str, str]) -> None:
    # In this process, one after another: alembic's context is global, and a fresh interpreter
    # per service costs seconds of imports on a busy machine.
    for name, url in urls.items():
        migrate(migrations_of(f"surge_{name}"), url)


@pytest.fixture(scope="session")
async def system(postgres_server: PostgresServer, nats_server: NatsServer) -> AsyncIterator[System]:
    prefix = f"sys{uuid.uuid4().hex[:10]}"
    urls: dict[str, str] = {}
    for name in (*PARTICIPANTS, "order"):
        database = f"sys_{name}_{uuid.uuid4().hex[:8]}"
        postgres_server.psql(f"CREATE DATABASE {database}")
        urls[name] = postgres_server.url(database)
    services = {
        name: ServiceProcess(
            name,
            service_env(
                name,
                urls[name],
                nats_server.url,
                prefix,
                test_failures_enabled="true",
                shutdown_grace_seconds="3",
            ),
        )
        for name in PARTICIPANTS
    }
    services["order"] = ServiceProcess(
        "order",
        service_env(
            "order",
            urls["order"],
            nats_server.url,
            prefix,
            inventory_addr=services["inventory"].address,
            unpaid_timeout_seconds=str(UNPAID_TIMEOUT_SECONDS),
            # Tests share two cores with everything else: a slow catalog is not what they test.
            inventory_timeout_seconds="10",
            # Returns: escalation is tested with a short wait (docs/returns.md).
            refund_escalation_seconds=str(REFUND_ESCALATION_SECONDS),
            returns_sweep_seconds="0.3",
            # Rules: a review waiting longer than this is escalated (docs/rules.md).
            review_escalation_seconds=str(REVIEW_ESCALATION_SECONDS),
            review_sweep_seconds="0.3",
            rules_refresh_seconds="0.5",
            # A sold-out SKU is refused at placement for this long: long enough that a test
            # placing right after a refusal sees it on a busy machine (SKUs are per test).
            sold_out_hold_seconds=str(SOLD_OUT_HOLD_SECONDS),
            shutdown_grace_seconds="3",
        ),
    )
    await asyncio.to_thread(_migrate_all, urls)
    running = System(services, urls, nats_server.url, prefix)
    try:
        outcomes = await asyncio.gather(
            asyncio.to_thread(_run, services["inventory"], "seed"),
            *(asyncio.to_thread(s.start, 120.0) for s in services.values()),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        yield running
    finally:
        await running.close()
        await asyncio.gather(
            *(asyncio.to_thread(s.stop) for s in services.values() if s.process is not None)
        )
