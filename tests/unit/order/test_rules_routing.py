"""ROUTE_WAREHOUSE and CHOOSE_CARRIER end to end in pure code: the order's routing tags become
command fields, inventory prefers the warehouse, fulfillment takes the carrier it knows."""

from __future__ import annotations

from datetime import UTC, datetime

from surge.fulfillment.v1 import fulfillment_pb2
from surge.inventory.v1 import inventory_pb2
from surge_fulfillment.domain.carriers import ANY_REGION, CarrierRule, choose_carrier
from surge_inventory.domain.model import Allocated, Allocation, Level, allocate
from surge_order.domain.model import Allocation as OrderAllocation
from surge_order.domain.model import Order, Saga
from surge_order.domain.order import Address, Customer, PaymentTerms, PricedLine
from surge_order.domain.saga import SagaState, Step
from surge_order.domain.status import OrderStatus
from surge_order.service_layer.saga_messages import step_commands

NOW = datetime(2026, 11, 11, tzinfo=UTC)


def order(tags: tuple[str, ...]) -> Order:
    return Order(
        id="o-1",
        client_order_id="c-1",
        channel="web",
        external_id=None,
        customer=Customer("cust", "Li Lei", "+8613800000000"),
        address=Address("Zhejiang", "Hangzhou", "Xihu", "1 Lingyin Rd", "310000"),
        lines=(PricedLine("TEA", "Tea", 2, 1000, 0, 2000, 100),),
        currency="CNY",
        subtotal_minor=2000,
        discount_minor=0,
        total_minor=2000,
        payment_terms=PaymentTerms.ON_ACCOUNT,
        status=OrderStatus.RESERVING,
        created_at=NOW,
        updated_at=NOW,
        tags=tags,
    )


def test_routing_tags_become_the_reserve_and_shipment_command_fields() -> None:
    routed = order(("vip", "warehouse:SH-01", "carrier:SF"))
    saga = Saga("s-1", "o-1", SagaState.RUNNING, NOW, NOW)
    saga.allocations = (OrderAllocation("TEA", "SH-01", 2),)
    [reserve] = step_commands(Step.RESERVE, routed, saga, 900)
    assert isinstance(reserve, inventory_pb2.ReserveStockCommand)
    assert reserve.preferred_warehouse == "SH-01"
    _, create = step_commands(Step.CREATE_SHIPMENT, routed, saga, 900)
    assert isinstance(create, fulfillment_pb2.CreateShipmentsCommand)
    assert create.carrier == "SF"
    [plain] = step_commands(Step.RESERVE, order(("vip",)), saga, 900)
    assert isinstance(plain, inventory_pb2.ReserveStockCommand)
    assert plain.preferred_warehouse == ""


def test_inventory_prefers_the_routed_warehouse_when_it_holds_the_line_whole() -> None:
    levels = [
        Level("TEA", "HZ-01", "Zhejiang", 10),
        Level("TEA", "SH-01", "Shanghai", 3),
    ]
    assert allocate({"TEA": 2}, "Zhejiang", levels) == Allocated((Allocation("TEA", "HZ-01", 2),))
    assert allocate({"TEA": 2}, "Zhejiang", levels, "SH-01") == Allocated(
        (Allocation("TEA", "SH-01", 2),)
    )
    # Too little there: allocated as usual.
    assert allocate({"TEA": 5}, "Zhejiang", levels, "SH-01") == Allocated(
        (Allocation("TEA", "HZ-01", 5),)
    )


def test_fulfillment_takes_a_chosen_carrier_it_knows_and_ignores_one_it_does_not() -> None:
    rules = [
        CarrierRule(priority=1, region=ANY_REGION, carrier="ZTO"),
        CarrierRule(priority=2, region="Xinjiang", carrier="SF"),
    ]

    def carrier(preferred: str = "") -> str:
        return choose_carrier(
            rules,
            destination="Zhejiang",
            warehouse="HZ-01",
            warehouse_regions={"HZ-01": "Zhejiang"},
            weight_grams=500,
            preferred=preferred,
        )

    assert carrier() == "ZTO"
    assert carrier("SF") == "SF"
    assert carrier("NOPE") == "ZTO"
