"""Dead letters, backlog, gauges and the audit trail through the real gateway and services.

- a dead-lettered ReserveStockCommand redriven through `/v1/admin/...` is applied exactly once
  (the stock is reserved once, a second redrive of the same number is 404), and the redrive is
  in `GET /v1/admin/audit` with the admin who did it;
- a purge through the gateway empties the DLQ and the DLQ depth gauge follows;
- the stock gauge of a watched SKU equals GetStock's available after the reservation.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from nats.js import JetStreamContext
from surge.inventory.v1 import inventory_pb2
from surge_platform.messaging import (
    HEADER_DLQ_CONSUMER,
    HEADER_DLQ_DELIVERIES,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SUBJECT,
    HEADER_MESSAGE_ID,
    HEADER_TYPE,
    Topology,
    connect,
)

from tests.integration.operations.conftest import WATCHED_SKU
from tests.integration.operations.scrape import sample
from tests.integration.operations.stack import Gateway, Stack
from tests.support import wait_until
from tests.system import System

pytestmark = pytest.mark.e2e

CONSUMER = "inventory-commands"
LETTERS = "/v1/admin/services/inventory/dead-letters"
STOCK = "surge_inventory_stock_available_units"
DEPTH = "surge_dead_letter_messages"


async def _dead_letter(
    js: JetStreamContext, topology: Topology, message_id: str, data: bytes
) -> None:
    """A ReserveStockCommand as the inventory consumer dead-letters one after max_deliver."""
    await js.publish(
        topology.dlq_subject(CONSUMER),
        data,
        headers={
            HEADER_TYPE: inventory_pb2.ReserveStockCommand.DESCRIPTOR.full_name,
            HEADER_MESSAGE_ID: message_id,
            HEADER_DLQ_REASON: "RuntimeError: database unavailable",
            HEADER_DLQ_SUBJECT: topology.subject_for(inventory_pb2.ReserveStockCommand),
            HEADER_DLQ_CONSUMER: CONSUMER,
            HEADER_DLQ_DELIVERIES: "5",
            "Nats-Msg-Id": f"dlq:{message_id}",
        },
    )


async def _letters(http: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, int]:
    """message id -> sequence of inventory's dead letters."""
    response = await http.get(LETTERS, headers=admin)
    assert response.status_code == 200, response.text
    return {d["message_id"]: d["sequence"] for d in response.json()["dead_letters"]}


async def _stock(system: System) -> tuple[int, int]:
    reply = await system.inventory.GetStock(
        inventory_pb2.GetStockRequest(sku=WATCHED_SKU), timeout=5
    )
    return reply.stock.reserved, reply.stock.available


async def test_redrive_through_the_gateway_applies_once_and_is_audited(stack: Stack) -> None:
    system, gateway = stack.system, stack.gateway
    assert isinstance(gateway, Gateway)
    await system.create_sku(WATCHED_SKU, {"HZ-01": 20})
    order_id = str(uuid.uuid4())
    command = inventory_pb2.ReserveStockCommand(
        saga_id=str(uuid.uuid4()),
        order_id=order_id,
        region="Zhejiang",
        lines=[inventory_pb2.ReserveLine(sku=WATCHED_SKU, quantity=3)],
    )
    message_id = f"reserve-{order_id}"
    topology = Topology(system.nats_prefix)
    client = await connect(system.nats_url, "surge-test")
    admin = {**gateway.auth("admin", sub="ops-lead"), "X-Request-Id": f"req-{order_id}"}
    inventory_metrics = system.services["inventory"].metrics_url
    try:
        await _dead_letter(client.jetstream(), topology, message_id, command.SerializeToString())
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
            sequence = (await _letters(http, admin))[message_id]
            shown = await http.get(f"{LETTERS}/{sequence}", headers=admin)
            assert shown.status_code == 200, shown.text
            assert shown.json()["payload"]["order_id"] == order_id
            backlog = (await http.get("/v1/admin/backlog", headers=admin)).json()
            [inventory] = [s for s in backlog["services"] if s["service"] == "inventory"]
            assert inventory["reachable"]
            assert inventory["dead_letters"] >= 1
            assert CONSUMER in {c["consumer"] for c in inventory["consumers"]}
            assert await _stock(system) == (0, 20)  # a dead letter changes nothing
            for role in ("operator", "customer"):
                refused = await http.post(
                    f"{LETTERS}/{sequence}/redrive", headers=gateway.auth(role)
                )
                assert refused.status_code == 403

            redriven = await http.post(f"{LETTERS}/{sequence}/redrive", headers=admin)
            assert redriven.status_code == 200, redriven.text

            async def reserved() -> bool:
                return await _stock(system) == (3, 17)

            await wait_until(reserved, 15, "the redriven reservation to be applied")
            assert message_id not in await _letters(http, admin)
            again = await http.post(f"{LETTERS}/{sequence}/redrive", headers=admin)
            assert again.status_code == 404
            # The stock gauge of the watched SKU is GetStock's available.
            await wait_until(
                lambda: _gauge_is(inventory_metrics, STOCK, 17, sku=WATCHED_SKU),
                10,
                "surge_inventory_stock_available_units to follow the reservation",
            )
            assert await _stock(system) == (3, 17)  # applied once

            trail = await http.get(
                "/v1/admin/audit", params={"action": "dead_letters.redrive"}, headers=admin
            )
            assert trail.status_code == 200
            rows = [
                (r["actor"], r["target"], r["outcome"], r["request_id"])
                for r in trail.json()["items"]
                if r["target"] == f"inventory#{sequence}"
            ]
            assert rows == [
                ("user:ops-lead", f"inventory#{sequence}", "NOT_FOUND", f"req-{order_id}"),
                ("user:ops-lead", f"inventory#{sequence}", "ok", f"req-{order_id}"),
            ]
    finally:
        await client.drain()


async def test_purge_through_the_gateway_empties_the_dlq_and_its_gauge(stack: Stack) -> None:
    system, gateway = stack.system, stack.gateway
    assert isinstance(gateway, Gateway)
    topology = Topology(system.nats_prefix)
    client = await connect(system.nats_url, "surge-test")
    admin = gateway.auth("admin", sub="ops-lead")
    inventory_metrics = system.services["inventory"].metrics_url
    try:
        for n in range(2):
            await _dead_letter(client.jetstream(), topology, f"poison-{uuid.uuid4()}-{n}", b"\xff")
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
            count = len(await _letters(http, admin))
            assert count >= 2
            await wait_until(
                lambda: _gauge_is(inventory_metrics, DEPTH, count, consumer=CONSUMER),
                10,
                "surge_dead_letter_messages to count the dead letters",
            )
            purged = await http.post(f"{LETTERS}/purge", json={"all": True}, headers=admin)
            assert purged.status_code == 200, purged.text
            assert len(purged.json()["dead_letters"]) == count
            assert await _letters(http, admin) == {}
            await wait_until(
                lambda: _gauge_is(inventory_metrics, DEPTH, 0, consumer=CONSUMER),
                10,
                "surge_dead_letter_messages back to 0",
            )
    finally:
        await client.drain()


async def _gauge_is(url: str, name: str, expected: float, **labels: str) -> bool:
    return await sample(url, name, **labels) == expected
