"""The carrier rules are read from the database at most once per TTL."""

from __future__ import annotations

from typing import cast

from surge_fulfillment.domain.carriers import CarrierRule
from surge_fulfillment.service_layer.carrier_book import CarrierBook
from surge_fulfillment.service_layer.unit_of_work import FulfillmentUnitOfWork


class FakeCarriers:
    def __init__(self) -> None:
        self.reads = 0
        self.carrier = "SF"

    async def rules(self) -> list[CarrierRule]:
        self.reads += 1
        return [CarrierRule(1, "*", self.carrier)]

    async def all_warehouse_regions(self) -> dict[str, str]:
        return {"HZ-01": "Zhejiang"}


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.carriers = FakeCarriers()


async def test_rules_are_reused_within_the_ttl_and_reread_after_it() -> None:
    now = [100.0]
    book = CarrierBook(ttl=30, clock=lambda: now[0])
    fake = FakeUnitOfWork()
    uow = cast(FulfillmentUnitOfWork, fake)

    first = await book.tables(uow)
    fake.carriers.carrier = "ZTO"  # an operator edits the table
    now[0] += 29
    assert await book.tables(uow) is first
    now[0] += 1
    reread = await book.tables(uow)

    assert fake.carriers.reads == 2
    assert [r.carrier for r in reread.rules] == ["ZTO"]
    assert reread.warehouse_regions == {"HZ-01": "Zhejiang"}


async def test_a_zero_ttl_reads_the_rules_every_time() -> None:
    book = CarrierBook(ttl=0)
    fake = FakeUnitOfWork()
    for _ in range(3):
        await book.tables(cast(FulfillmentUnitOfWork, fake))
    assert fake.carriers.reads == 3
