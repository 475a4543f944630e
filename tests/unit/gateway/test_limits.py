"""Rate limits per principal (429) and admission control for new orders (503)."""

from __future__ import annotations

import asyncio

import pytest
from surge_gateway.admission import AdmissionController
from surge_gateway.metrics import GatewayMetrics
from surge_gateway.problems import ProblemError

from tests.support import wait_until
from tests.unit.gateway.conftest import MakeGateway, idem, order_body


async def test_a_principal_over_its_limit_gets_429_with_retry_after(
    make_gateway: MakeGateway,
) -> None:
    async with make_gateway(rate_limits={"customer": "3/minute"}) as gw:
        alice = gw.auth("customer", sub="alice")
        for remaining in (2, 1, 0):
            ok = await gw.client.get("/v1/orders", headers=alice)
            assert ok.status_code == 200
            assert ok.headers["ratelimit-limit"] == "3"
            assert ok.headers["ratelimit-remaining"] == str(remaining)
        refused = await gw.client.get("/v1/orders", headers=alice)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-remaining"] == "0"
        # Another principal has its own budget.
        bob = await gw.client.get("/v1/orders", headers=gw.auth("customer", sub="bob"))
        assert bob.status_code == 200
        metrics = (await gw.client.get("/metrics")).text
        assert 'surge_gateway_rate_limited_total{rate_class="customer"} 1.0' in metrics
        assert 'surge_gateway_rate_limit_per_second{rate_class="customer"} 0.05' in metrics


async def test_staff_roles_have_their_own_limits(make_gateway: MakeGateway) -> None:
    async with make_gateway(rate_limits={"customer": "1/minute"}) as gw:
        for _ in range(3):
            response = await gw.client.get("/v1/orders", headers=gw.auth("operator"))
            assert response.status_code == 200


def test_an_invalid_limit_setting_fails_start_up() -> None:
    from pydantic import ValidationError

    from tests.unit.gateway.conftest import settings_for

    with pytest.raises(ValidationError, match="customer"):
        settings_for(b"-----BEGIN PUBLIC KEY-----", rate_limits={"customer": "lots"})


async def test_new_orders_are_shed_when_too_many_are_in_flight(
    make_gateway: MakeGateway,
) -> None:
    async with make_gateway(admission_max_in_flight=1) as gw:
        gw.orders.hold = asyncio.Event()
        customer = gw.auth("customer")
        first = asyncio.create_task(
            gw.client.post("/v1/orders", json=order_body(), headers={**customer, **idem()})
        )
        await wait_until(lambda: gw.orders.placing == 1, 5, "first order in flight")
        shed = await gw.client.post("/v1/orders", json=order_body(), headers={**customer, **idem()})
        assert shed.status_code == 503
        assert shed.headers["retry-after"] == "1"
        assert shed.headers["content-type"] == "application/problem+json"
        # Reads and payments keep flowing while new orders are shed.
        gw.orders.hold.set()
        assert (await first).status_code == 202
        gw.orders.hold.clear()
        blocker = asyncio.create_task(
            gw.client.post("/v1/orders", json=order_body(), headers={**customer, **idem()})
        )
        await wait_until(lambda: gw.orders.placing == 1, 5, "second order in flight")
        read = await gw.client.get("/v1/orders/0193-0001", headers=customer)
        assert read.status_code == 200
        paid = await gw.client.post(
            "/v1/orders/0193-0001/payments",
            json={
                "amount": {"amount_minor": 2000, "currency": "CNY"},
                "method": "alipay",
                "reference": "r1",
            },
            headers={**customer, **idem()},
        )
        assert paid.status_code == 200
        gw.orders.hold.set()
        await blocker
        metrics = (await gw.client.get("/metrics")).text
        assert 'surge_gateway_shed_total{reason="in_flight"} 1.0' in metrics
        assert "surge_gateway_admission_max_in_flight 1.0" in metrics


def _controller(chance: float = 0.99, **overrides: float) -> AdmissionController:
    from prometheus_client import CollectorRegistry

    values = {"max_in_flight": 100, "max_latency": 0.2, "window": 2.0, "retry_after": 3}
    values.update(overrides)
    return AdmissionController(
        max_in_flight=int(values["max_in_flight"]),
        max_latency=values["max_latency"],
        window=values["window"],
        retry_after=int(values["retry_after"]),
        metrics=GatewayMetrics(CollectorRegistry()),
        chance=lambda: chance,
    )


def test_slow_recent_place_orders_shed_new_ones_until_the_window_passes() -> None:
    import time

    controller = _controller()
    now = time.monotonic()
    for _ in range(5):
        controller.record(0.5, now=now)
    with pytest.raises(ProblemError) as shed:
        controller.precheck()
    assert shed.value.status == 503
    assert shed.value.headers["Retry-After"] == "3"
    # Once the slow samples age out of the window, new orders are admitted again.
    assert controller.recent_latency(now=now + 2.5) == 0.0
    controller.precheck()


def test_latency_over_the_bound_sheds_in_proportion_not_everything() -> None:
    # Mean latency 0.8 s against a 0.2 s bound: a quarter of new orders still get in.
    admitted = []
    for draw in (0.1, 0.2, 0.3, 0.6, 0.9):
        controller = _controller(chance=draw)
        for _ in range(5):
            controller.record(0.8)
        try:
            controller.precheck()
            admitted.append(draw)
        except ProblemError:
            pass
    assert admitted == [0.1, 0.2]


def test_fast_place_orders_are_admitted() -> None:
    controller = _controller()
    for _ in range(100):
        controller.record(0.01)
    controller.precheck()
    assert controller.recent_latency() == pytest.approx(0.01)
