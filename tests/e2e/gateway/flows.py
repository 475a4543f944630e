"""Small helpers for gateway e2e tests: place orders and wait for states over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import GatewayProcess
from tests.support import wait_until


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def order_body(sku: str, quantity: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "customer": {"name": "Li Lei", "phone": f"+86139{uuid.uuid4().int % 10**8:08d}"},
        "shipping_address": {
            "province": "Zhejiang",
            "city": "Hangzhou",
            "district": "Xihu",
            # An address of its own: the velocity rule holds a 4th order to one address.
            "line1": f"{uuid.uuid4().int % 10**6} Wensan Rd",
            "postal_code": "310012",
        },
        "lines": [{"sku": sku, "quantity": quantity}],
        "payment_terms": "prepaid",
    }
    body.update(overrides)
    return body


async def new_sku(gateway: GatewayProcess, units: int = 50) -> str:
    sku = gateway.system.unique("GW")
    await gateway.system.create_sku(sku, {"HZ-01": units})
    return sku


async def wait_for_status(
    http: httpx.AsyncClient,
    order_id: str,
    headers: dict[str, str],
    statuses: set[str],
    deadline: float = 30,
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        response = await http.get(f"/v1/orders/{order_id}", headers=headers)
        assert response.status_code == 200, response.text
        seen.update(response.json())
        return seen["status"] in statuses

    await wait_until(reached, deadline, f"order {order_id} to reach {sorted(statuses)}")
    return seen
