"""Each channel's webhook over real HTTP, with duplicates and possible duplicates."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from surge_gateway.channels.signature import sign

from tests.e2e.conftest import GatewayProcess
from tests.e2e.gateway.flows import key, new_sku, wait_for_status

pytestmark = pytest.mark.e2e

PAYLOADS = Path(__file__).resolve().parents[2] / "unit" / "gateway" / "payloads"


def payload(channel: str, sku: str, phone: str) -> dict[str, Any]:
    """The channel's sample payload with a fresh external id, our SKU and the given phone."""
    p: dict[str, Any] = json.loads((PAYLOADS / f"{channel}.json").read_text())
    external = uuid.uuid4().hex[:16]
    if channel == "web":
        p["order_no"], p["customer"]["mobile"], p["coupon"] = external, phone, None
        p["items"] = [{"sku": sku, "qty": 1}]
    elif channel == "tmall":
        p["tid"], p["receiver_mobile"] = external, phone
        p["orders"] = {"order": [{"outer_sku_id": sku, "num": 1}]}
    elif channel == "jd":
        p["orderId"], p["consigneeInfo"]["mobile"] = external, phone
        p["itemInfoList"] = [{"outerSkuId": sku, "itemTotal": "1"}]
    else:
        p["order_id"], p["post_tel"] = external, phone
        p["sku_order_list"] = [{"out_sku_id": sku, "item_num": 1}]
    return p


def phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


async def post(
    http: httpx.AsyncClient, gateway: GatewayProcess, channel: str, body: dict[str, Any]
) -> httpx.Response:
    raw = json.dumps(body).encode()
    api_key = gateway.channel_keys[channel]
    return await http.post(
        f"/v1/channels/{channel}/orders",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Api-Key": api_key,
            "X-Surge-Signature": sign(api_key, raw),
            **key(),
        },
    )


@pytest.mark.parametrize("channel", ["web", "tmall", "jd", "douyin"])
async def test_each_channel_webhook_places_an_order_once(
    gateway: GatewayProcess, http: httpx.AsyncClient, channel: str
) -> None:
    sku = await new_sku(gateway)
    body = payload(channel, sku, phone())
    first = await post(http, gateway, channel, body)
    assert first.status_code == 202, first.text
    accepted = first.json()
    assert accepted["created"] is True
    assert accepted["order"]["channel"] == channel
    assert accepted["order"]["lines"][0]["sku"] == sku
    again = await post(http, gateway, channel, body)  # the marketplace retries
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["order"]["id"] == accepted["order"]["id"]


async def test_same_phone_and_skus_from_two_channels_is_flagged_possible_duplicate(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    sku = await new_sku(gateway)
    number = phone()
    first = await post(http, gateway, "tmall", payload("tmall", sku, number))
    second = await post(http, gateway, "jd", payload("jd", sku, "+86 " + number))
    assert first.status_code == second.status_code == 202
    assert first.json()["possible_duplicate"] is False
    flagged = second.json()
    assert flagged["possible_duplicate"] is True
    assert "possible_duplicate" in flagged["order"]["tags"]
    assert flagged["order"]["id"] != first.json()["order"]["id"]


async def test_a_possible_duplicate_is_held_for_review(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    sku = await new_sku(gateway)
    number = phone()
    first = await post(http, gateway, "douyin", payload("douyin", sku, number))
    second = await post(http, gateway, "web", payload("web", sku, number))
    assert first.status_code == second.status_code == 202
    held = second.json()["order"]
    assert {"possible_duplicate", "review"} <= set(held["tags"])
    # Held after its stock is reserved (docs/rules.md); the first order goes on.
    operator = gateway.auth("operator")
    await wait_for_status(http, held["id"], operator, {"pending_review"})
    await wait_for_status(http, first.json()["order"]["id"], operator, {"awaiting_shipment"})


async def test_a_webhook_with_a_bad_signature_is_refused(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    raw = json.dumps(payload("tmall", "X", phone())).encode()
    response = await http.post(
        "/v1/channels/tmall/orders",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Api-Key": gateway.channel_keys["tmall"],
            "X-Surge-Signature": sign("wrong", raw),
            **key(),
        },
    )
    assert response.status_code == 401
