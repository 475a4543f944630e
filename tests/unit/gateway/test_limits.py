"""Rate limits per principal (429) and admission control for new orders (503)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from surge_gateway.admission import AdmissionController
from surge_gateway.metrics import GatewayMetrics
from surge_gateway.problems import ProblemError
from surge_gateway.ratelimit import RateCounters

from tests.support import wait_until
from tests.unit.gateway.conftest import MakeGateway, idem, order_body, place_held_order


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
        first = await place_held_order(gw)
        customer = gw.auth("customer")
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


def _controller(**overrides: float) -> AdmissionController:
    from prometheus_client import CollectorRegistry

    values = {"max_in_flight": 100, "max_latency": 0.2, "retry_after": 3, "initial_limit": 4}
    values.update(overrides)
    return AdmissionController(
        max_in_flight=int(values["max_in_flight"]),
        max_latency=values["max_latency"],
        retry_after=int(values["retry_after"]),
        metrics=GatewayMetrics(CollectorRegistry()),
        initial_limit=int(values["initial_limit"]),
    )


async def _fill(controller: AdmissionController, n: int) -> list[contextlib.AsyncExitStack]:
    held = []
    for _ in range(n):
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(controller.admit())
        held.append(stack)
    return held


async def test_orders_past_the_limit_are_shed_before_any_work() -> None:
    controller = _controller()
    held = await _fill(controller, 4)
    with pytest.raises(ProblemError) as shed:
        controller.precheck()
    assert shed.value.status == 503
    assert shed.value.headers["Retry-After"] == "3"
    await held.pop().aclose()
    controller.precheck()  # a slot came free


def _generation(
    controller: AdmissionController, started: float, latency: float, n: int = 4
) -> None:
    for _ in range(n):
        controller.record(started, started + latency, binding=True)


def test_a_slow_generation_cuts_the_limit_as_littles_law_says() -> None:
    controller = _controller(initial_limit=10)
    for _ in range(5):
        controller.record(0.0, 0.01, binding=False)  # unqueued orders: the floor
    assert controller.limit == 10.0  # fast, but the limit was not reached: nothing learnt
    # Five orders (half the limit) admitted after that averaged 0.25 s against a 0.2 s bound:
    # 10 in flight * 0.2 / 0.25 would have met it.
    for latency in (0.1, 0.2, 0.3, 0.3, 0.35):
        controller.record(1.0, 1.0 + latency, binding=True)
    assert controller.limit == pytest.approx(8.0)
    # Orders admitted before that revision say nothing about the new limit.
    _generation(controller, 0.5, 3.0, n=10)
    assert controller.limit == pytest.approx(8.0)
    # Far over the bound, a revision halves the limit at most; cuts stop at four.
    _generation(controller, 2.0, 4.0)
    assert controller.limit == pytest.approx(4.0)
    for i in range(10):
        _generation(controller, 10.0 + i, 4.0)
    assert controller.limit == 4.0
    controller.precheck()


def test_one_slow_order_in_a_generation_does_not_cut_the_limit() -> None:
    controller = _controller(initial_limit=8)
    for latency in (0.05, 0.05, 0.05, 0.5):  # mean 0.16 s: within the 0.2 s bound
        controller.record(0.0, latency, binding=True)
    assert controller.limit == 16.0


def test_fast_generations_at_the_limit_raise_it_up_to_the_bound() -> None:
    controller = _controller(initial_limit=4, max_in_flight=40)
    _generation(controller, 0.0, 0.01)  # doubling until the first cut (slow start) ...
    assert controller.limit == 8.0
    _generation(controller, 1.0, 0.5)  # ... which this one is: 8 * 0.2 / 0.5
    assert controller.limit == pytest.approx(4.0)
    _generation(controller, 2.0, 0.01)  # then one per generation
    assert controller.limit == pytest.approx(5.0)
    for i in range(100):
        _generation(controller, 3.0 + i, 0.01, n=20)
    assert controller.limit == 40.0


def test_an_order_path_slow_without_queueing_is_not_throttled() -> None:
    # Every order takes 0.5 s against a 0.2 s bound, even at low concurrency: cutting the
    # limit would lose throughput and win no latency. Only twice the floor counts as queueing.
    controller = _controller(initial_limit=4)
    for i in range(3):
        _generation(controller, float(i), 0.5, n=8)
    assert controller.limit == 32.0
    _generation(controller, 3.0, 1.1, n=16)  # queueing: 32 * 0.2 / 1.1, at most halved
    assert controller.limit == pytest.approx(16.0)
    # The floor follows the service: 1.5 s everywhere, twenty seconds later, is its new normal.
    for i in range(6):
        _generation(controller, 100.0 + 10 * i, 1.5, n=16)
    assert controller.limit >= 16.0


async def test_the_limit_follows_the_latency_of_admitted_orders() -> None:
    controller = _controller(initial_limit=2, max_latency=0.1)

    async def order(seconds: float) -> None:
        async with controller.admit():
            await asyncio.sleep(seconds)

    # Fast orders at the limit open it up; then a slow generation closes it again.
    for _ in range(2):
        await asyncio.gather(order(0), order(0))
    assert controller.limit == 4.0
    await asyncio.gather(*(order(0.02 * i) for i in range(4)))  # mean 0.03 s: fast
    assert controller.limit == 8.0
    await asyncio.gather(*(order(0.4) for _ in range(4)))
    assert controller.limit == 4.0  # 8 * 0.1 / 0.4 would be 2: a revision at most halves


async def test_an_order_that_raced_past_the_precheck_waits_briefly_for_a_slot() -> None:
    # It claimed its Idempotency-Key meanwhile: shedding it now would cost another round trip.
    controller = _controller(initial_limit=1, max_latency=0.2)
    (held,) = await _fill(controller, 1)
    raced = asyncio.create_task(_fill(controller, 1))
    await asyncio.sleep(0)
    with pytest.raises(ProblemError):
        controller.precheck()  # everything new is shed while one waits
    await held.aclose()
    (handed,) = await raced  # the freed slot went to the waiting order
    assert controller.in_flight == 1
    with pytest.raises(ProblemError) as shed:
        await _fill(controller, 1)  # nothing came free within half the latency bound
    assert shed.value.status == 503
    await handed.aclose()
    assert controller.in_flight == 0
    controller.precheck()


async def test_rate_counters_expire_and_are_swept_periodically_not_on_every_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    counters = RateCounters(sweep_seconds=60)

    async def hit(key: str, at: float) -> int:
        clock[0] = at
        return await counters.incr(key, 10)

    assert [await hit("a", 1000), await hit("a", 1005), await hit("a", 1011)] == [1, 2, 1]
    await hit("b", 1011)
    await hit("c", 1055)
    await asyncio.sleep(0.01)  # a sweep the hits scheduled (as the library's storage does) runs
    # "a" and "b" expired (1021) but no hit swept them: each hit would be O(all counters).
    assert set(counters.expirations) == {"a", "b", "c"}
    assert await counters.get("b") == 0
    await hit("c", 1061)
    assert set(counters.expirations) == {"c"}
    assert await counters.get("c") == 2
