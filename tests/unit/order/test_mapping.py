"""Every domain status and saga state has its proto enum, both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2
from surge_order.domain.model import Order, Saga
from surge_order.domain.order import Address, Customer, PaymentTerms, PricedLine
from surge_order.domain.saga import SagaState
from surge_order.domain.status import OrderStatus
from surge_order.entrypoints.mapping import _ts, status_from_pb, status_to_pb, view_to_pb
from surge_order.service_layer.handlers import OrderView

NOW = datetime(2026, 11, 11, tzinfo=UTC)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_every_order_status_round_trips_through_its_proto_enum(status: OrderStatus) -> None:
    value = order_pb2.OrderStatus.Value(status_to_pb(status.value))
    assert status_from_pb(value) is status


@pytest.mark.parametrize("state", list(SagaState))
def test_every_saga_state_renders_as_its_proto_enum(state: SagaState) -> None:
    order = Order(
        id="o-1",
        client_order_id="co",
        channel="web",
        external_id=None,
        customer=Customer("c", "n", "+8613800000000"),
        address=Address("Zhejiang", "Hangzhou", "Xihu", "1 Rd", "310000"),
        lines=(PricedLine("TEA", "Tea", 2, 100, 0, 200, 250),),
        currency="CNY",
        subtotal_minor=200,
        discount_minor=0,
        total_minor=200,
        payment_terms=PaymentTerms.PREPAID,
        status=OrderStatus.RESERVING,
        created_at=NOW,
        updated_at=NOW,
    )
    saga = Saga(id="s-1", order_id="o-1", state=state, started_at=NOW, updated_at=NOW)
    message = view_to_pb(OrderView(order, saga, [], []))
    assert order_pb2.SagaState.Name(message.saga.state) == f"SAGA_STATE_{state.value.upper()}"
    assert message.payment_terms == common_pb2.PAYMENT_TERMS_PREPAID
    assert message.lines[0].line_total.amount_minor == 200


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 22, 17, 5, 3, 123456, tzinfo=UTC),
        datetime(2026, 11, 22, 17, 5, 3, 123456, tzinfo=timezone(timedelta(hours=8))),
        datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
        datetime(2026, 11, 22, 17, 5, 3, 999999),  # naive: UTC, as FromDatetime reads it
    ],
)
def test_timestamps_are_what_protobuf_makes_of_the_datetime(at: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(at)
    assert _ts(at) == expected
    assert _ts(None) is None
