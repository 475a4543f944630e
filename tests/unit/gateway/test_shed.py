"""While admission control refuses new orders, they are shed before routing and authentication."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from surge_gateway.idempotency import Claim, MemoryIdempotencyStore

from tests.support import wait_until
from tests.unit.gateway.conftest import (
    CHANNEL_KEYS,
    MakeGateway,
    idem,
    order_body,
    place_held_order,
)


async def test_while_shedding_new_orders_get_503_before_anything_else_runs(
    make_gateway: MakeGateway,
) -> None:
    async with make_gateway(admission_max_in_flight=1) as gw:
        first = await place_held_order(gw)
        customer = gw.auth("customer")
        claimed = len(gw.store.rows)

        anonymous = await gw.client.post("/v1/orders", json=order_body(), headers=idem())
        webhook = await gw.client.post(
            "/v1/channels/tmall/orders",
            content=b"{}",
            headers={"X-Api-Key": CHANNEL_KEYS["tmall"], **idem()},
        )
        for shed in (anonymous, webhook):
            assert shed.status_code == 503, shed.text
            assert shed.headers["retry-after"] == "1"
            assert shed.headers["content-type"] == "application/problem+json"
            problem = shed.json()
            assert problem["status"] == 503
            assert problem["instance"] == shed.request.url.path
        # Nothing ran behind the layer: no second order placed, no key claimed.
        assert gw.orders.placing == 1
        assert len(gw.store.rows) == claimed
        # Reads go through while new orders are shed, the list on the same path too.
        assert (await gw.client.get("/v1/orders", headers=customer)).status_code == 200

        gw.orders.hold.set()
        assert (await first).status_code == 202
        # Once nothing is shed, the request is authenticated as before.
        assert (
            await gw.client.post("/v1/orders", json=order_body(), headers=idem())
        ).status_code == 401

        metrics = (await gw.client.get("/metrics")).text
        assert 'surge_gateway_shed_total{reason="in_flight"} 2.0' in metrics
        counted = {
            (sample.labels["route"], sample.labels["status"]): sample.value
            for family in text_string_to_metric_families(metrics)
            if family.name == "surge_gateway_http_requests"
            for sample in family.samples
            if sample.name.endswith("_total") and sample.labels["method"] == "POST"
        }
        assert counted[("/v1/orders", "503")] == 1
        assert counted[("/v1/channels/{channel}/orders", "503")] == 1


class SlowClaims(MemoryIdempotencyStore):
    """Claims wait until the test lets them through, as on a saturated connection pool."""

    def __init__(self) -> None:
        super().__init__()
        self.open = asyncio.Event()
        self.waiting = 0

    async def claim(self, *args: Any, **kwargs: Any) -> Claim:
        self.waiting += 1
        await self.open.wait()
        return await super().claim(*args, **kwargs)


async def test_a_herd_waiting_for_its_claims_is_bounded_and_the_rest_is_shed(
    make_gateway: MakeGateway,
) -> None:
    store = SlowClaims()
    async with make_gateway(store=store) as gw:
        herd = [
            asyncio.create_task(
                gw.client.post(
                    "/v1/orders",
                    json=order_body(),
                    headers={**gw.auth("customer", f"buyer-{i}"), **idem()},
                )
            )
            for i in range(40)
        ]
        # 8 is the starting limit: twice that and 8 more may wait inside; the rest is shed.
        await wait_until(lambda: sum(t.done() for t in herd) == 16, 5, "the excess shed")
        assert store.waiting == 24
        assert {t.result().status_code for t in herd if t.done()} == {503}
        admission = gw.app.state.admission
        assert admission.entered == 24

        store.open.set()
        statuses = [(await t).status_code for t in herd]
        # The 24 inside are placed, but for any that time out waiting for one of the 8 slots.
        assert set(statuses) == {202, 503}
        assert statuses.count(202) >= 8
        assert admission.entered == 0
        metrics = (await gw.client.get("/metrics")).text
        assert 'surge_gateway_shed_total{reason="queue"} 16.0' in metrics


async def test_repeats_of_a_key_inside_are_not_shed_as_a_queue(make_gateway: MakeGateway) -> None:
    store = SlowClaims()
    async with make_gateway(store=store, rate_limits={"customer": "1000/second"}) as gw:
        headers = {**gw.auth("customer"), **idem()}
        repeats = [
            asyncio.create_task(gw.client.post("/v1/orders", json=order_body(), headers=headers))
            for _ in range(40)
        ]
        await wait_until(lambda: store.waiting == 40, 5, "every repeat inside")
        assert gw.app.state.admission.entered == 40

        store.open.set()
        responses = [await t for t in repeats]
        assert {r.status_code for r in responses} == {202}
        assert len({r.content for r in responses}) == 1
        assert gw.orders.place_calls == 1
