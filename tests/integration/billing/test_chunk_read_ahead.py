"""A group commit of IssueInvoice commands reads ahead and numbers from one block, and stays exact:
numbers gapless (leftovers given back), the credit limit checked against the batch's own earlier
invoices, a repeat answered with the first invoice, a rollback giving the whole block back."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message
from prometheus_client import CollectorRegistry
from surge.billing.v1 import billing_pb2
from surge_billing.adapters.metrics import BillingMetrics
from surge_billing.service_layer import handlers
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork
from surge_platform.db import batch_transaction

from tests.integration.billing.conftest import Billing, issue_command, this_year

pytestmark = pytest.mark.integration


async def run_batch(billing: Billing, commands: list[Message], *, fail: bool = False) -> None:
    """What the consumer does with a chunk: the hooks, then every handler in one transaction."""
    ctx = handlers.HandlerContext(
        policy=handlers.BillingPolicy(test_failures_enabled=True),
        topology=billing.topology,
        metrics=BillingMetrics(CollectorRegistry()),
    )
    async with batch_transaction(billing.engine) as batch:
        await batch.before_handlers(commands)
        for command in commands:
            async with BillingUnitOfWork(billing.engine) as uow:
                if isinstance(command, billing_pb2.IssueInvoiceCommand):
                    await handlers.issue_invoice(command, uow, ctx=ctx)
                else:
                    assert isinstance(command, billing_pb2.VoidInvoiceCommand)
                    await handlers.void_invoice(command, uow, ctx=ctx)
        if fail:
            raise RuntimeError("a later message of the batch failed")


async def test_one_batch_numbers_without_gaps_and_checks_credit_against_its_own_invoices(
    billing: Billing,
) -> None:
    year = this_year()
    # ¥100,000 default limit: the first two fit, the third would take the customer over it.
    big = issue_command("o-big", customer_id="c-x", amount_minor=6_000_000)
    chunk: list[Message] = [
        big,
        issue_command("o-small", customer_id="c-x", amount_minor=3_000_000),
        issue_command("o-over", customer_id="c-x", amount_minor=2_000_000),
        issue_command("o-bad", customer_id="c-y", sku="FAIL-INVOICE-1", amount_minor=100),
        big,  # a repeat (new message id): the same invoice again
        issue_command("o-void", customer_id="c-y", amount_minor=500),
        billing_pb2.VoidInvoiceCommand(saga_id="saga-o-void", order_id="o-void", reason="x"),
    ]
    await run_batch(billing, chunk)

    issued = await billing.wait_replies(billing_pb2.InvoiceIssued, 4)
    numbers = {(r.order_id, r.number) for r in issued}
    assert numbers == {
        ("o-big", f"INV-{year}-000001"),
        ("o-small", f"INV-{year}-000002"),
        ("o-void", f"INV-{year}-000003"),
    }
    assert len(billing.replies_of(billing_pb2.InvoiceIssued, "o-big")) == 2
    [over] = await billing.wait_replies(billing_pb2.InvoiceRejected, 1, "o-over")
    assert over.code == billing_pb2.INVOICE_REJECTION_CODE_CREDIT_LIMIT_EXCEEDED
    [voided] = await billing.wait_replies(billing_pb2.InvoiceVoided, 1, "o-void")
    assert voided.invoice_id == next(r.invoice_id for r in issued if r.order_id == "o-void")
    # Six IssueInvoice commands took a block of six numbers; three were given back.
    assert await billing.scalar("SELECT last FROM invoice_counters WHERE year = :y", y=year) == 3
    rows = await billing.rows("SELECT order_id, seq, status FROM invoices ORDER BY seq")
    assert [(r.order_id, r.seq, r.status) for r in rows] == [
        ("o-big", 1, "ISSUED"),
        ("o-small", 2, "ISSUED"),
        ("o-void", 3, "VOID"),
    ]

    # The next invoice, alone in its transaction, takes the next number.
    await billing.send(issue_command("o-next", customer_id="c-z", amount_minor=100))
    [following] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "o-next")
    assert following.number == f"INV-{year}-000004"


async def test_a_batch_that_rolls_back_gives_its_whole_block_back(billing: Billing) -> None:
    chunk: list[Message] = [
        issue_command(f"o-{n}", customer_id=f"c-{n}", amount_minor=100) for n in range(3)
    ]
    with pytest.raises(RuntimeError):
        await run_batch(billing, chunk, fail=True)
    assert await billing.scalar("SELECT count(*) FROM invoice_counters") == 0
    assert await billing.scalar("SELECT count(*) FROM invoices") == 0

    await run_batch(billing, chunk[:2])
    rows = await billing.rows("SELECT order_id, seq FROM invoices ORDER BY seq")
    assert [(r.order_id, r.seq) for r in rows] == [("o-0", 1), ("o-1", 2)]
    totals = await billing.wait_replies(billing_pb2.InvoiceIssued, 2)
    assert {t.total.amount_minor for t in totals} == {100}
    assert all(t.total.currency == "CNY" for t in totals)
