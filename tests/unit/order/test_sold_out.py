"""Orders for a SKU inventory has just refused for lack of stock are refused at once, for a
moment, unless they want no more than the units it had left; repeats still get their order."""

from __future__ import annotations

import pytest
from surge.inventory.v1 import inventory_pb2
from surge_order.domain.order import LineRequest
from surge_order.domain.status import OrderStatus
from surge_order.service_layer.saga import Orchestrator, SagaPolicy
from surge_order.service_layer.sold_out import SoldOutGate
from surge_platform import errors
from surge_platform.messaging import Topology

from tests.unit.order.test_saga_orchestrator import World


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_refused_sku_is_short_for_more_than_its_units_left_until_the_hold_ends() -> None:
    clock, refusals = Clock(), []
    gate = SoldOutGate(2.0, on_refusal=lambda: refusals.append(1), clock=clock)
    gate.refused({"TEA": 1, "CUP": 0})

    assert gate.short([("TEA", 1)]) == {}  # one left: inventory may still say yes
    assert gate.short([("TEA", 1), ("TEA", 1)]) == {"TEA": 1}  # lines of one SKU add up
    assert gate.short([("CUP", 1), ("PEN", 5)]) == {"CUP": 0}
    assert "sold out: CUP has 0 left" in gate.refusing({"CUP": 0}).message
    assert refusals == [1]

    clock.now += 2.0
    assert gate.short([("CUP", 1)]) == {}  # the hold is over: ask inventory again


def test_a_gate_with_no_hold_never_refuses() -> None:
    gate = SoldOutGate(0)
    gate.refused({"TEA": 0})
    assert not gate.enabled
    assert gate.short([("TEA", 1)]) == {}


def _world() -> World:
    w = World()
    w.orchestrator = Orchestrator(
        Topology("t"), w.metrics, SagaPolicy(), SoldOutGate(60, w.metrics.sold_out_refusals.inc)
    )
    return w


async def _refused_for_stock(w: World, oid: str, units: dict[str, int]) -> None:
    rejected = inventory_pb2.StockRejected(
        saga_id=w.saga(oid).id,
        order_id=oid,
        reason="insufficient stock",
        unavailable_skus=list(units),
        available_units=units,
    )
    await w.reply("on_stock_rejected", rejected)


async def test_after_a_stock_refusal_placement_refuses_at_once_and_stores_nothing() -> None:
    w = _world()
    first = await w.place(client_order_id="co-1")
    await _refused_for_stock(w, first, {"TEA": 0})
    assert w.order(first).status is OrderStatus.CANCELLED

    with pytest.raises(errors.FailedPrecondition, match="sold out: TEA has 0 left"):
        await w.place(client_order_id="co-2")
    assert len(w.store.orders) == 1
    assert w.metrics.sold_out_refusals._value.get() == 1

    # An order without the sold-out SKU goes on as usual.
    other = await w.place(client_order_id="co-3", lines=(LineRequest("CUP", 1),))
    assert w.order(other).status is OrderStatus.RESERVING


async def test_a_repeat_of_an_order_placed_before_the_sell_out_returns_that_order() -> None:
    w = _world()
    placed = await w.place(client_order_id="co-1")
    loser = await w.place(client_order_id="co-2")
    await _refused_for_stock(w, loser, {"TEA": 0})

    assert await w.place(client_order_id="co-1") == placed
    assert len(w.store.orders) == 2


async def test_a_repeated_refusal_without_units_left_changes_nothing() -> None:
    w = _world()
    oid = await w.place(client_order_id="co-1")
    # A reply that repeats an earlier decision carries no units: no hint, no refusal.
    await w.reply(
        "on_stock_rejected",
        inventory_pb2.StockRejected(
            saga_id=w.saga(oid).id, order_id=oid, reason="insufficient stock"
        ),
    )
    assert await w.place(client_order_id="co-2") != oid
