from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from surge_gateway.app import Overrides, create_app
from surge_gateway.auth import ApiKey, hash_api_key
from surge_gateway.config import GatewaySettings
from surge_gateway.downstream import Downstream
from surge_gateway.idempotency import MemoryIdempotencyStore
from surge_gateway.keys import generate_keypair, make_token

from tests.support import wait_until
from tests.unit.gateway.fakes import (
    MemoryApiKeys,
    MemoryAuditLog,
    MemoryIntakeLog,
    fake_downstream,
)

CHANNEL_KEYS = {name: f"sk_channel_{name}_secret" for name in ("web", "tmall", "jd", "douyin")}
CARRIER_KEY = "sk_carrier_sf_secret"


@pytest.fixture(scope="session")
def keypair() -> tuple[bytes, bytes]:
    return generate_keypair()


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    down: Downstream
    store: MemoryIdempotencyStore
    intake: MemoryIntakeLog
    private_key: bytes

    def auth(self, role: str, sub: str = "alice") -> dict[str, str]:
        token = make_token(self.private_key, subject=sub, roles=[role], ttl_seconds=600)
        return {"Authorization": f"Bearer {token}"}

    @property
    def orders(self) -> Any:
        return self.down.orders


def settings_for(public_key: bytes, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "database_url": "postgresql+asyncpg://unused@127.0.0.1:1/unused",
        "order_addr": "127.0.0.1:1",
        "inventory_addr": "127.0.0.1:1",
        "fulfillment_addr": "127.0.0.1:1",
        "billing_addr": "127.0.0.1:1",
        "jwt_public_key": public_key.decode(),
        "idempotency_wait_seconds": 2.0,
    }
    values.update(overrides)
    return GatewaySettings(**values)


MakeGateway = Callable[..., AbstractAsyncContextManager[Gateway]]


@pytest.fixture
def make_gateway(keypair: tuple[bytes, bytes]) -> MakeGateway:
    @asynccontextmanager
    async def make(
        tracer: Any = None,
        store: MemoryIdempotencyStore | None = None,
        intake: MemoryIntakeLog | None = None,
        **settings: Any,
    ) -> AsyncIterator[Gateway]:
        keys = MemoryApiKeys(
            {hash_api_key(k): ApiKey(name=n, kind="channel") for n, k in CHANNEL_KEYS.items()}
        )
        keys.keys[hash_api_key(CARRIER_KEY)] = ApiKey(name="sf", kind="carrier")
        down = fake_downstream()
        store = store or MemoryIdempotencyStore()
        intake = intake or MemoryIntakeLog()
        app = create_app(
            settings_for(keypair[1], **settings),
            Overrides(
                downstream=down,
                idempotency_store=store,
                api_keys=keys,
                intake_log=intake,
                tracer=tracer,
                audit_log=MemoryAuditLog(),
            ),
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                yield Gateway(app, client, down, store, intake, keypair[0])

    return make


@pytest.fixture
async def gw(make_gateway: MakeGateway) -> AsyncIterator[Gateway]:
    async with make_gateway() as gateway:
        yield gateway


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "customer": {"name": "Li Lei", "phone": "+8613800000000"},
        "shipping_address": {
            "province": "Zhejiang",
            "city": "Hangzhou",
            "district": "Xihu",
            "line1": "1 Wensan Rd",
            "postal_code": "310000",
        },
        "lines": [{"sku": "TEA-1", "quantity": 2}],
        "payment_terms": "prepaid",
    }
    body.update(overrides)
    return body


def idem() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def place_held_order(gw: Gateway) -> asyncio.Task[httpx.Response]:
    """A customer's new order, in flight until the test sets `gw.orders.hold`."""
    gw.orders.hold = asyncio.Event()
    headers = {**gw.auth("customer"), **idem()}
    placing = asyncio.create_task(gw.client.post("/v1/orders", json=order_body(), headers=headers))
    await wait_until(lambda: gw.orders.placing == 1, 5, "an order in flight")
    return placing
