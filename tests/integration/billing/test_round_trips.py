"""A billing message that arrives alone (no group commit) costs as few round trips as it can:
an OrderStatusChanged is claimed and recorded with one statement, and an on-account invoice
takes its two locks and its two reads with one statement each."""

from __future__ import annotations

import functools

import pytest
from prometheus_client import CollectorRegistry
from surge_billing import bootstrap
from surge_billing.adapters.metrics import BillingMetrics
from surge_billing.entrypoints.ledger_consumer import LedgerConsumer
from surge_billing.service_layer import handlers
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork
from surge_platform.ids import new_id
from surge_platform.inbox import idempotent
from surge_platform.messaging import Envelope

from tests.integration.billing.conftest import Billing, issue_command
from tests.integration.billing.round_trips import counting_engine
from tests.integration.billing.test_finance import status_event

pytestmark = pytest.mark.integration


def envelope(message_id: str) -> Envelope:
    return Envelope(message_id, "order.evt.order_status_changed", {}, 1)


async def test_an_order_event_alone_is_claimed_and_recorded_with_one_statement(
    billing: Billing,
) -> None:
    order_id, message_id = new_id(), new_id()
    async with counting_engine(billing.engine) as (engine, statements):
        consumer = LedgerConsumer(
            bootstrap.ORDER_EVENTS_DURABLE, engine, lambda: BillingUnitOfWork(engine)
        )
        await consumer(status_event(new_id(), "reserving", total=1), envelope(new_id()))  # warm
        statements.clear()
        await consumer(status_event(order_id, "reserving", total=5_000), envelope(message_id))
        assert len(await statements.sent()) == 1  # no BEGIN, no separate claim, no COMMIT
        # The same message again, even claiming a later version, changes nothing: it was claimed.
        again = status_event(order_id, "shipped", total=5_000, version=2)
        await consumer(again, envelope(message_id))
    rows = await billing.rows(
        "SELECT status, version FROM order_ledger WHERE order_id = :id", id=order_id
    )
    assert [tuple(r) for r in rows] == [("reserving", 1)]
    claims = await billing.scalar(
        "SELECT count(*) FROM inbox WHERE consumer = :c AND message_id = :m",
        c=bootstrap.ORDER_EVENTS_DURABLE,
        m=message_id,
    )
    assert claims == 1


async def test_an_on_account_invoice_alone_sends_three_statements_of_its_own(
    billing: Billing,
) -> None:
    ctx = handlers.HandlerContext(
        policy=handlers.BillingPolicy(),
        topology=billing.topology,
        metrics=BillingMetrics(CollectorRegistry()),
    )
    customer = f"cust-{new_id()}"
    async with counting_engine(billing.engine) as (engine, statements):
        handle = idempotent(
            bootstrap.COMMANDS_DURABLE,
            lambda: BillingUnitOfWork(engine),
            functools.partial(handlers.issue_invoice, ctx=ctx),
        )
        await handle(issue_command(new_id(), customer_id=customer), envelope(new_id()))  # warm
        statements.clear()
        order_id = new_id()
        await handle(issue_command(order_id, customer_id=customer), envelope(new_id()))
        own = await statements.of_handler()
    # The order's and the customer's locks; the order's context and the customer's credit; the
    # numbered insert (it was five: each lock and each read on its own).
    assert len(own) == 3, own
    assert own[0].startswith("WITH o AS (SELECT pg_advisory_xact_lock")
    issued = await billing.rows(
        "SELECT status, customer_id FROM invoices WHERE order_id = :id", id=order_id
    )
    assert [tuple(r) for r in issued] == [("ISSUED", customer)]
