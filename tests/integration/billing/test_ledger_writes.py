"""The order ledger's group-commit write: one statement per batch, with the outcome of upserting
each OrderStatusChanged in arrival order (version guard, totals kept when an event has none)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from surge_billing.adapters.finance_repository import LedgerEntry, LedgerWrites
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork
from surge_platform.db import batch_transaction
from surge_platform.ids import new_id

from tests.integration.billing.conftest import Billing

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 11, 10, tzinfo=UTC)


def entry(order_id: str, status: str, version: int, total: int | None) -> LedgerEntry:
    return LedgerEntry(
        order_id=order_id,
        customer_id="cust-ledger",
        channel="web",
        status=status,
        total_minor=total,
        currency="CNY" if total is not None else None,
        payment_terms="PREPAID" if total is not None else None,
        placed_at=T0,
        version=version,
        updated_at=T0 + timedelta(minutes=version),
    )


async def test_a_batch_writes_every_units_entries_in_arrival_order(billing: Billing) -> None:
    first, second, stale = new_id(), new_id(), new_id()
    arrivals = [
        entry(first, "reserving", 1, 5_000),
        entry(second, "reserving", 1, 7_000),
        entry(first, "awaiting_shipment", 3, None),  # no total: the row keeps 5_000
        entry(stale, "shipped", 4, 9_000),
        entry(first, "paid", 2, 6_000),  # arrived after version 3: ignored
        entry(stale, "reserving", 1, 1),  # older than what the row holds: ignored
    ]
    async with batch_transaction(billing.engine) as batch:
        for item in arrivals:
            async with BillingUnitOfWork(billing.engine) as uow:
                uow.deferred(LedgerWrites).add(item)
                await uow.commit()
        # Deferred to the batch's commit: not written yet, even as seen from inside the batch.
        inside = await batch.connection.execute(text("SELECT count(*) FROM order_ledger"))
        assert inside.scalar() == 0
    rows = await billing.rows(
        "SELECT order_id, status, total_minor, version FROM order_ledger ORDER BY total_minor"
    )
    assert [(r.order_id, r.status, r.total_minor, r.version) for r in rows] == [
        (first, "awaiting_shipment", 5_000, 3),
        (second, "reserving", 7_000, 1),
        (stale, "shipped", 9_000, 4),
    ]


async def test_a_unit_of_work_that_does_not_commit_writes_nothing(billing: Billing) -> None:
    order_id = new_id()
    async with BillingUnitOfWork(billing.engine) as uow:
        uow.deferred(LedgerWrites).add(entry(order_id, "reserving", 1, 100))
    assert await billing.scalar("SELECT count(*) FROM order_ledger") == 0
    async with BillingUnitOfWork(billing.engine) as uow:
        uow.deferred(LedgerWrites).add(entry(order_id, "reserving", 1, 100))
        await uow.commit()
    assert await billing.scalar("SELECT count(*) FROM order_ledger") == 1
