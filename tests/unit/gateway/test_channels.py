"""Channel webhooks: a mapper per channel, signatures, API keys, duplicates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from surge_gateway.channels import MAPPERS, MappingError, map_payload
from surge_gateway.channels.signature import sign, verify
from surge_gateway.intake import normalise_phone

from tests.unit.gateway.conftest import CHANNEL_KEYS, Gateway, idem

PAYLOADS = Path(__file__).parent / "payloads"


def sample(channel: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{channel}.json").read_text())
    return loaded


EXPECTED = {
    "web": (
        "W-20261111-0001",
        "web:u-7731",
        "+86 138 0013 8000",
        "西湖区",
        "310012",
        [("TEA-LJ-250", 2), ("CUP-GL-01", 1)],
        "prepaid",
    ),
    "tmall": (
        "2718281828459045",
        "tmall:AAHk5d-EAAeGwJedwSHpg8bT",
        "13900139000",
        "浦东新区",
        "200120",
        [("TEA-LJ-250", 3)],
        "on_account",
    ),
    "jd": (
        "JD-314159265358",
        "jd:jd_8d7f6e",
        "13700137000",
        "朝阳区",
        "100022",
        [("TEA-LJ-250", 1), ("CUP-GL-01", 4)],
        "on_account",
    ),
    "douyin": (
        "4983220615623856785",
        "douyin:dy-1a2b3c",
        "13600136000",
        "南山区",
        "518057",
        [("TEA-LJ-250", 1)],
        "on_account",
    ),
}


def test_every_channel_has_a_mapper_and_a_sample() -> None:
    assert set(MAPPERS) == set(EXPECTED) == {p.stem for p in PAYLOADS.glob("*.json")}


@pytest.mark.parametrize("channel", sorted(EXPECTED))
def test_each_channel_payload_maps_to_the_canonical_order(channel: str) -> None:
    external_id, customer_id, phone, district, postal, lines, terms = EXPECTED[channel]
    order = map_payload(channel, sample(channel))
    assert order.channel == channel
    assert order.external_id == external_id
    assert order.customer.id == customer_id
    assert order.customer.phone == phone
    assert order.shipping_address.district == district
    assert order.shipping_address.postal_code == postal
    assert [(line.sku, line.quantity) for line in order.lines] == lines
    assert order.payment_terms == terms


@pytest.mark.parametrize("channel", sorted(EXPECTED))
def test_a_payload_missing_fields_names_the_channels_own_fields(channel: str) -> None:
    payload = sample(channel)
    first_key = next(iter(payload))
    del payload[first_key]
    with pytest.raises(MappingError) as failed:
        map_payload(channel, payload)
    assert first_key in {e.field for e in failed.value.errors}


def test_one_channels_payload_does_not_map_as_another() -> None:
    with pytest.raises(MappingError):
        map_payload("jd", sample("tmall"))


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"a": 1}'
    signature = sign("k", body)
    assert signature == "sha256=" + __import__("hmac").new(b"k", body, "sha256").hexdigest()
    assert verify("k", body, signature)
    assert not verify("k", body + b" ", signature)
    assert not verify("other", body, signature)
    assert not verify("k", body, None)


def test_phones_normalise_to_one_form() -> None:
    assert normalise_phone("+86 138 0013 8000") == normalise_phone("13800138000")
    assert normalise_phone("138-0013-8000") == "8613800138000"


async def _webhook(
    gw: Gateway,
    channel: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    api_key = key or CHANNEL_KEYS[channel]
    return await gw.client.post(
        f"/v1/channels/{channel}/orders",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Api-Key": api_key,
            "X-Surge-Signature": signature or sign(api_key, body),
            **(headers or idem()),
        },
    )


@pytest.mark.parametrize("channel", sorted(EXPECTED))
async def test_a_signed_webhook_places_the_order(gw: Gateway, channel: str) -> None:
    response = await _webhook(gw, channel, sample(channel))
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["created"] is True
    assert accepted["possible_duplicate"] is False
    assert accepted["order"]["channel"] == channel
    assert accepted["order"]["external_id"] == EXPECTED[channel][0]
    assert gw.orders.place_calls == 1


async def test_the_same_external_id_returns_the_existing_order(gw: Gateway) -> None:
    first = await _webhook(gw, "tmall", sample("tmall"))
    again = await _webhook(gw, "tmall", sample("tmall"))  # a new Idempotency-Key
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["order"]["id"] == first.json()["order"]["id"]
    assert len(gw.orders.orders) == 1


async def test_same_phone_and_skus_from_another_channel_is_a_possible_duplicate(
    gw: Gateway,
) -> None:
    tmall = sample("tmall")
    douyin = sample("douyin")
    douyin["post_tel"] = "+86 " + tmall["receiver_mobile"]
    douyin["sku_order_list"] = [{"out_sku_id": "TEA-LJ-250", "item_num": 7}]
    first = await _webhook(gw, "tmall", tmall)
    second = await _webhook(gw, "douyin", douyin)
    assert first.json()["possible_duplicate"] is False
    assert second.status_code == 202
    flagged = second.json()
    assert flagged["created"] is True
    assert flagged["possible_duplicate"] is True
    assert flagged["order"]["tags"] == ["possible_duplicate"]
    assert flagged["order"]["status"] == "pending_review"


async def test_different_skus_from_the_same_phone_are_not_flagged(gw: Gateway) -> None:
    tmall = sample("tmall")
    douyin = sample("douyin")
    douyin["post_tel"] = tmall["receiver_mobile"]
    douyin["sku_order_list"] = [{"out_sku_id": "CUP-GL-01", "item_num": 1}]
    await _webhook(gw, "tmall", tmall)
    second = await _webhook(gw, "douyin", douyin)
    assert second.json()["possible_duplicate"] is False


async def test_a_tampered_body_is_refused(gw: Gateway) -> None:
    payload = sample("jd")
    signature = sign(CHANNEL_KEYS["jd"], json.dumps(payload).encode())
    payload["itemInfoList"][0]["itemTotal"] = "100"
    response = await _webhook(gw, "jd", payload, signature=signature)
    assert response.status_code == 401
    assert gw.orders.place_calls == 0


async def test_a_key_of_another_channel_is_forbidden(gw: Gateway) -> None:
    response = await _webhook(gw, "jd", sample("jd"), key=CHANNEL_KEYS["tmall"])
    assert response.status_code == 403
    assert gw.orders.place_calls == 0


async def test_an_unknown_channel_is_404(gw: Gateway) -> None:
    body = b"{}"
    response = await gw.client.post(
        "/v1/channels/ebay/orders",
        content=body,
        headers={"X-Api-Key": CHANNEL_KEYS["web"], "X-Surge-Signature": sign("x", body), **idem()},
    )
    assert response.status_code == 404


async def test_a_bad_payload_is_422_with_the_channels_field_names(gw: Gateway) -> None:
    payload = sample("douyin")
    del payload["post_addr"]["city"]
    response = await _webhook(gw, "douyin", payload)
    assert response.status_code == 422
    assert "post_addr.city" in {e["field"] for e in response.json()["errors"]}


async def test_webhook_retries_with_one_idempotency_key_replay(gw: Gateway) -> None:
    headers = idem()
    first = await _webhook(gw, "web", sample("web"), headers=headers)
    again = await _webhook(gw, "web", sample("web"), headers=headers)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert gw.orders.place_calls == 1
