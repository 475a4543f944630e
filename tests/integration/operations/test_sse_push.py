"""SSE order events are pushed from NATS (OrderStatusChanged), not found by polling GetOrder.

The stack's gateway polls only every 30 s while NATS pushes, so a cancellation seen on the
stream within seconds, with a handful of GetOrder calls, was pushed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.operations.stack import Gateway, Stack
from tests.support import wait_until

pytestmark = pytest.mark.e2e

PUSH_DEADLINE_SECONDS = 5.0


async def _get_order_calls(metrics_url: str) -> float:
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(metrics_url)).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "surge_grpc_server_requests_total"
        and s.labels.get("method", "").endswith("/GetOrder")
    )


def _body(sku: str) -> dict[str, object]:
    return {
        "channel": "web",
        "customer": {"name": "Li Lei", "phone": f"+86137{uuid.uuid4().int % 10**8:08d}"},
        "shipping_address": {
            "province": "Zhejiang",
            "city": "Hangzhou",
            "district": "Xihu",
            "line1": f"{uuid.uuid4().int % 10**6} Baochu Rd",
            "postal_code": "310012",
        },
        "lines": [{"sku": sku, "quantity": 1}],
        "payment_terms": "prepaid",
    }


async def test_a_status_change_reaches_the_stream_by_push(stack: Stack) -> None:
    system, gateway = stack.system, stack.gateway
    assert isinstance(gateway, Gateway)
    sku = system.unique("SSE")
    await system.create_sku(sku, {"HZ-01": 5})
    customer = gateway.auth("customer", sub=system.unique("sse"))
    order_metrics = system.services["order"].metrics_url
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as http:
        placed = await http.post(
            "/v1/orders", json=_body(sku), headers={**customer, "Idempotency-Key": sku}
        )
        assert placed.status_code == 202, placed.text
        order_id = placed.json()["id"]

        async def pending_payment() -> bool:
            order = (await http.get(f"/v1/orders/{order_id}", headers=customer)).json()
            return bool(order["status"] == "pending_payment")

        await wait_until(pending_payment, 30, "the order to wait for payment")
        calls_before = await _get_order_calls(order_metrics)
        seen: list[tuple[float, str]] = []
        opened = asyncio.Event()

        async def read_stream() -> None:
            async with http.stream(
                "GET", f"/v1/orders/{order_id}/events", headers=customer
            ) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        seen.append((time.monotonic(), json.loads(line[6:])["to_status"]))
                        if seen[-1][1] == "pending_payment":
                            opened.set()

        reader = asyncio.create_task(read_stream())
        await asyncio.wait_for(opened.wait(), 10)

        async def stream_idle() -> bool:
            # The authorising read and the one right after subscribing: now it waits for a push.
            return await _get_order_calls(order_metrics) >= calls_before + 2

        await wait_until(stream_idle, 10, "the stream to wait for a push")
        cancelled_at = time.monotonic()
        cancel = await http.post(
            f"/v1/orders/{order_id}/cancel", json={"reason": "sse test"}, headers=customer
        )
        assert cancel.status_code == 200, cancel.text
        await asyncio.wait_for(reader, PUSH_DEADLINE_SECONDS + 5)

    final_at, final = seen[-1]
    latency = final_at - cancelled_at
    assert final == "cancelled"
    assert latency < PUSH_DEADLINE_SECONDS, f"cancellation reached the stream after {latency:.2f}s"
    # One read per wake-up (plus the first two), where polling every 0.25 s would make ~4/s.
    calls = await _get_order_calls(order_metrics) - calls_before
    sys.stderr.write(
        f"SSE push: cancellation on the stream {latency * 1000:.0f} ms after the POST returned; "
        f"{calls:.0f} GetOrder calls for the whole stream\n"
    )
    assert calls <= 6
