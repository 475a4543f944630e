"""Operator tooling for sagas, against a private running system with short step deadlines.

- a saga parked because its compensation could not reach inventory is listed by
  `surge-order sagas list --state parked`, stays parked once inventory is back, and completes
  its compensation after `surge-order sagas retry`;
- a stuck running saga is force-compensated through the admin API (admins only, audited).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import grpc
import httpx
import pytest
from surge.common.v1 import common_pb2
from surge.inventory.v1 import inventory_pb2
from surge.order.v1 import order_pb2
from surge_platform.messaging import Topology, connect

from tests.integration.operations.scrape import sample
from tests.integration.operations.stack import Stack
from tests.integration.saga.conftest import unique_address, unique_phone
from tests.support import wait_until
from tests.system import System

pytestmark = pytest.mark.e2e

ADDRESS = common_pb2.Address(
    province="Zhejiang",
    city="Hangzhou",
    district="Xihu",
    line1="1 Lingyin Rd",
    postal_code="310000",
)


def sagas_cli(system: System, *args: str) -> str:
    """`surge-order sagas ...` as an operator runs it next to the service."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from surge_order.entrypoints.cli import main; main()",
            "sagas",
            *args,
        ],
        env={**os.environ, "SURGE_ORDER_GRPC_PORT": system.address("order").rsplit(":", 1)[1]},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def place(sku: str, quantity: int, terms: int) -> order_pb2.PlaceOrderRequest:
    return order_pb2.PlaceOrderRequest(
        client_order_id=System.unique("CO"),
        channel="web",
        customer=common_pb2.Customer(id=System.unique("cust"), name="Li Lei", phone=unique_phone()),
        # Its own phone and address: the velocity rule holds a 4th order to either.
        shipping_address=unique_address(),
        lines=[order_pb2.PlaceOrderLine(sku=sku, quantity=quantity)],
        payment_terms=terms,  # type: ignore[arg-type]
    )


async def place_retrying(system: System, request: order_pb2.PlaceOrderRequest) -> str:
    """PlaceOrder, retried while UNAVAILABLE (it is idempotent on client_order_id): the order
    service's channel to a restarted inventory reconnects with backoff."""
    placed: list[str] = []

    async def attempt() -> bool:
        try:
            reply = await system.order.PlaceOrder(request, timeout=15)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNAVAILABLE:
                return False
            raise
        placed.append(reply.order.id)
        return True

    await wait_until(attempt, 30, "PlaceOrder to be accepted", interval=0.2)
    return placed[0]


async def saga_state(system: System, order_id: str) -> int:
    reply = await system.order.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), timeout=5)
    return reply.order.saga.state


async def wait_for_saga(system: System, order_id: str, state: int, deadline: float = 30) -> None:
    async def reached() -> bool:
        return await saga_state(system, order_id) == state

    await wait_until(reached, deadline, f"saga of {order_id} {order_pb2.SagaState.Name(state)}")


async def levels(system: System, sku: str) -> tuple[int, int, int]:
    reply = await system.inventory.GetStock(inventory_pb2.GetStockRequest(sku=sku), timeout=5)
    return reply.stock.on_hand, reply.stock.reserved, reply.stock.available


async def inventory_idle(system: System) -> bool:
    client = await connect(system.nats_url, "surge-test")
    try:
        info = await client.jetstream().consumer_info(
            Topology(system.nats_prefix).stream("inventory", "cmd"), "inventory-commands"
        )
        return not (info.num_pending or info.num_ack_pending)
    finally:
        await client.drain()


async def test_a_parked_saga_retried_after_the_cause_is_fixed_completes(stack: Stack) -> None:
    system = stack.system
    inventory = system.services["inventory"]
    sku = system.unique("PARK")
    await system.create_sku(sku, {"HZ-01": 5})
    order_id = await place_retrying(system, place(sku, 2, common_pb2.PAYMENT_TERMS_PREPAID))
    await wait_for_saga(system, order_id, order_pb2.SAGA_STATE_AWAITING_PAYMENT)
    assert await levels(system, sku) == (5, 2, 3)

    # Inventory goes down; the cancellation's stock release cannot be delivered.
    await asyncio.to_thread(inventory.stop)
    await system.order.CancelOrder(
        order_pb2.CancelOrderRequest(order_id=order_id, reason="customer changed mind"), timeout=5
    )
    await wait_for_saga(system, order_id, order_pb2.SAGA_STATE_COMPENSATION_FAILED)
    # The only saga this private system parks: the gauge (a periodic count) reports it.
    metrics_url = system.services["order"].metrics_url
    await wait_until(
        lambda: parked_gauge_is(metrics_url, 1), 15, "surge_order_parked_sagas to count it"
    )
    listed = sagas_cli(system, "list", "--state", "parked")
    assert order_id in listed
    assert "inventory.release" in listed
    assert order_id not in sagas_cli(system, "list", "--state", "parked", "--older-than", "3600")
    # The releases sent meanwhile are lost (as if dead-lettered and purged while inventory was
    # broken), so nothing but an operator can finish this saga.
    client = await connect(system.nats_url, "surge-test")
    try:
        topology = Topology(system.nats_prefix)
        await client.jetstream().purge_stream(
            topology.stream("inventory", "cmd"),
            subject=topology.subject_for(inventory_pb2.ReleaseStockCommand),
        )
    finally:
        await client.drain()

    await asyncio.to_thread(inventory.start)  # the cause is fixed
    await wait_until(lambda: inventory_idle(system), 30, "inventory to drain its commands")
    assert await saga_state(system, order_id) == order_pb2.SAGA_STATE_COMPENSATION_FAILED
    assert await levels(system, sku) == (5, 2, 3)

    retried = sagas_cli(system, "retry", order_id)
    assert f"retry: order {order_id} saga compensating step inventory.release" in retried
    await wait_for_saga(system, order_id, order_pb2.SAGA_STATE_COMPENSATED)
    assert await levels(system, sku) == (5, 0, 5)
    assert order_id not in sagas_cli(system, "list", "--state", "parked")
    await wait_until(lambda: parked_gauge_is(metrics_url, 0), 15, "the parked gauge back to 0")


async def parked_gauge_is(metrics_url: str, expected: float) -> bool:
    return await sample(metrics_url, "surge_order_parked_sagas") == expected


async def test_a_stuck_saga_is_force_compensated_by_an_admin_only(stack: Stack) -> None:
    system, gateway = stack.system, stack.gateway
    assert gateway is not None
    fulfillment = system.services["fulfillment"]
    sku = system.unique("STUCK")
    await system.create_sku(sku, {"HZ-01": 4})
    await asyncio.to_thread(fulfillment.stop)
    try:
        order_id = await place_retrying(system, place(sku, 1, common_pb2.PAYMENT_TERMS_ON_ACCOUNT))
        admin = gateway.auth("admin", sub="ops-lead")
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
            stuck: dict[str, object] = {}

            async def listed_as_stuck() -> bool:
                response = await http.get(
                    "/v1/admin/sagas", params={"state": "stuck"}, headers=admin
                )
                assert response.status_code == 200, response.text
                for saga in response.json()["sagas"]:
                    if saga["order_id"] == order_id:
                        stuck.update(saga)
                        return True
                return False

            await wait_until(listed_as_stuck, 30, f"saga of {order_id} listed as stuck")
            assert stuck["current_step"] == "fulfillment.create_shipment"
            assert stuck["state"] == "running"

            path = f"/v1/admin/sagas/{order_id}/compensate"
            for role in ("operator", "finance", "customer"):
                headers = gateway.auth(role)
                assert (await http.post(path, headers=headers)).status_code == 403, role
                assert (await http.get("/v1/admin/sagas", headers=headers)).status_code == 403
                retry = await http.post(f"/v1/admin/sagas/{order_id}/retry", headers=headers)
                assert retry.status_code == 403
            assert (await http.post(path)).status_code == 401
            assert await saga_state(system, order_id) == order_pb2.SAGA_STATE_RUNNING

            forced = await http.post(path, headers=admin)
            assert forced.status_code == 202, forced.text
            assert forced.json()["status"] == "cancelled"
            assert forced.json()["cancel_reason"] == "forced by operator"
    finally:
        await asyncio.to_thread(fulfillment.start)

    await wait_for_saga(system, order_id, order_pb2.SAGA_STATE_COMPENSATED)
    reply = await system.order.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), timeout=5)
    assert reply.order.cancel_reason == "forced by operator"
    assert await levels(system, sku) == (4, 0, 4)

    audit = [
        line
        for line in (json.loads(raw) for raw in gateway.logs().splitlines() if raw.startswith("{"))
        if line.get("event") == "audit" and line.get("action") == "sagas.compensate"
    ]
    assert [(a["actor"], a["target"], a["outcome"]) for a in audit] == [
        ("user:ops-lead", order_id, "ok")
    ]
    assert all(a["at"] for a in audit)
