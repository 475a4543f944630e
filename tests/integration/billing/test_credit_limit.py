"""ON_ACCOUNT invoices stay within the customer's credit limit, also when they race."""

from __future__ import annotations

import asyncio

import pytest
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2

from tests.integration.billing.conftest import StartBilling, issue_command, this_year

pytestmark = pytest.mark.integration

PREPAID = common_pb2.PAYMENT_TERMS_PREPAID


async def test_an_on_account_invoice_over_the_limit_is_rejected_and_consumes_no_number(
    start_billing: StartBilling,
) -> None:
    billing = await start_billing(default_credit_limit_minor=10_000)
    year = this_year()
    await billing.send(issue_command("order-1", customer_id="cust-c", amount_minor=6_000))
    [first] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-1")
    await billing.send(issue_command("order-2", customer_id="cust-c", amount_minor=4_001))
    [rejected] = await billing.wait_replies(billing_pb2.InvoiceRejected, 1, "order-2")
    # Prepaid orders do not use credit: the same customer can still buy.
    await billing.send(
        issue_command("order-3", customer_id="cust-c", amount_minor=50_000, terms=PREPAID)
    )
    [third] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-3")
    # Exactly the rest of the limit still fits.
    await billing.send(issue_command("order-4", customer_id="cust-c", amount_minor=4_000))
    [fourth] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-4")

    assert rejected.code == billing_pb2.INVOICE_REJECTION_CODE_CREDIT_LIMIT_EXCEEDED
    assert rejected.saga_id == "saga-order-2"
    assert "credit limit exceeded for customer cust-c" in rejected.reason
    assert "CNY 40.01" in rejected.reason
    assert "available CNY 40.00" in rejected.reason
    assert [first.number, third.number, fourth.number] == [
        f"INV-{year}-000001",
        f"INV-{year}-000002",
        f"INV-{year}-000003",
    ]
    assert await billing.scalar("SELECT count(*) FROM invoices WHERE order_id = 'order-2'") == 0
    assert (
        billing.metric("surge_billing_invoices_rejected_total", reason="credit_limit_exceeded") == 1
    )


async def test_two_concurrent_invoices_that_together_exceed_the_limit_accept_exactly_one(
    start_billing: StartBilling,
) -> None:
    billing = await start_billing(default_credit_limit_minor=10_000)
    for round_ in range(5):
        orders = [f"order-{round_}-{n}" for n in range(2)]
        customer = f"cust-race-{round_}"
        await asyncio.gather(
            *(
                billing.send(issue_command(o, customer_id=customer, amount_minor=6_000))
                for o in orders
            )
        )
        for order in orders:
            await billing.wait_reply(order)

        issued = [r for o in orders for r in billing.replies_of(billing_pb2.InvoiceIssued, o)]
        rejected = [r for o in orders for r in billing.replies_of(billing_pb2.InvoiceRejected, o)]
        assert len(issued) == 1, f"round {round_}: {issued}"
        assert len(rejected) == 1
        assert rejected[0].code == billing_pb2.INVOICE_REJECTION_CODE_CREDIT_LIMIT_EXCEEDED
        used = await billing.scalar(
            "SELECT sum(total_minor) FROM invoices WHERE customer_id = :c AND status = 'ISSUED'",
            c=customer,
        )
        assert used == 6_000


async def test_voiding_an_invoice_gives_its_credit_back(start_billing: StartBilling) -> None:
    billing = await start_billing(default_credit_limit_minor=10_000)
    await billing.send(issue_command("order-x", customer_id="cust-v", amount_minor=8_000))
    await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-x")
    await billing.send(
        billing_pb2.VoidInvoiceCommand(saga_id="saga-order-x", order_id="order-x", reason="r")
    )
    await billing.wait_replies(billing_pb2.InvoiceVoided, 1, "order-x")
    await billing.send(issue_command("order-y", customer_id="cust-v", amount_minor=8_000))

    [issued] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-y")
    assert issued.number.endswith("-000002")
