"""OrderEvents wakes exactly the streams watching the order that changed."""

from __future__ import annotations

from surge.order.v1 import order_pb2
from surge_gateway.order_events import OrderEvents


class _Msg:
    subject = "surge.order.evt.order_status_changed"

    def __init__(self, data: bytes) -> None:
        self.data = data


async def test_a_change_wakes_only_the_watchers_of_that_order() -> None:
    events = OrderEvents()  # no NATS configured: inactive, streams poll
    assert not events.active
    watching = events.watch("o-1"), events.watch("o-1"), events.watch("o-2")
    async with watching[0] as first, watching[1] as second, watching[2] as other:
        change = order_pb2.OrderStatusChanged(order_id="o-1")
        await events._on_message(_Msg(change.SerializeToString()))  # type: ignore[arg-type]
        await events._on_message(_Msg(b"\xff\xff"))  # type: ignore[arg-type]
        assert first.is_set()
        assert second.is_set()
        assert not other.is_set()
    assert events._watchers == {}
    events.notify("o-1")  # nobody watches any more: nothing to wake, nothing kept
    assert events._watchers == {}
