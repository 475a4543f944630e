"""Invoices get gapless yearly numbers over JetStream, once per order, even under concurrency."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2

from tests.integration.billing.conftest import Billing, issue_command, this_year
from tests.support import wait_until

pytestmark = pytest.mark.integration


async def test_first_invoices_of_the_year_are_numbered_000001_then_000002(
    billing: Billing,
) -> None:
    year = this_year()
    await billing.send(issue_command("order-a", amount_minor=11_300))
    [first] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-a")
    await billing.send(issue_command("order-b", amount_minor=2_000))
    [second] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-b")

    assert first.number == f"INV-{year}-000001"
    assert second.number == f"INV-{year}-000002"
    assert first.saga_id == "saga-order-a"
    assert first.total == common_pb2.Money(amount_minor=11_300, currency="CNY")
    [row] = await billing.rows(
        "SELECT status, subtotal_minor, tax_minor, total_minor, lines FROM invoices "
        "WHERE id = CAST(:id AS uuid)",
        id=first.invoice_id,
    )
    assert (row.status, row.subtotal_minor, row.tax_minor, row.total_minor) == (
        "ISSUED",
        10_000,
        1_300,
        11_300,
    )
    assert billing.metric("surge_billing_invoiced_minor_total", currency="CNY") == 13_300
    assert billing.metric("surge_billing_invoices_issued_total", terms="on_account") == 2


async def test_fifty_concurrent_invoices_take_numbers_1_to_50_without_gap_or_duplicate(
    billing: Billing,
) -> None:
    year = this_year()
    await asyncio.gather(
        *(
            billing.send(issue_command(f"order-{n}", customer_id=f"cust-{n}", amount_minor=100))
            for n in range(50)
        )
    )
    issued = await billing.wait_replies(billing_pb2.InvoiceIssued, 50)

    assert sorted(reply.number for reply in issued) == [f"INV-{year}-{n:06d}" for n in range(1, 51)]
    assert len({reply.order_id for reply in issued}) == 50
    seqs = [row.seq for row in await billing.rows("SELECT seq FROM invoices ORDER BY seq")]
    assert seqs == list(range(1, 51))
    assert await billing.scalar("SELECT last FROM invoice_counters WHERE year = :y", y=year) == 50


async def test_a_repeated_command_replies_again_with_the_same_single_invoice(
    billing: Billing,
) -> None:
    command = issue_command("order-dup")
    # Two deliveries with different message ids (a sweeper resend), raced against each other.
    await asyncio.gather(billing.send(command), billing.send(command))
    replies = await billing.wait_replies(billing_pb2.InvoiceIssued, 2, "order-dup")
    await billing.send(command)
    replies = await billing.wait_replies(billing_pb2.InvoiceIssued, 3, "order-dup")

    assert len({(r.invoice_id, r.number) for r in replies}) == 1
    assert await billing.scalar("SELECT count(*) FROM invoices WHERE order_id = 'order-dup'") == 1
    assert await billing.scalar("SELECT max(last) FROM invoice_counters") == 1


async def test_a_voided_invoice_keeps_its_number_and_the_next_invoice_takes_the_next(
    billing: Billing,
) -> None:
    year = this_year()
    await billing.send(issue_command("order-v", saga_id="saga-1"))
    [issued] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-v")

    void = billing_pb2.VoidInvoiceCommand(
        saga_id="saga-1", order_id="order-v", reason="shipment failed"
    )
    await billing.send(void)
    [voided] = await billing.wait_replies(billing_pb2.InvoiceVoided, 1, "order-v")
    await billing.send(void)  # the compensation repeated
    repeated = await billing.wait_replies(billing_pb2.InvoiceVoided, 2, "order-v")
    await billing.send(issue_command("order-w"))
    [next_one] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-w")

    assert voided.invoice_id == issued.invoice_id
    assert repeated[1].invoice_id == issued.invoice_id
    assert next_one.number == f"INV-{year}-000002"
    [row] = await billing.rows(
        "SELECT number, status, void_reason, voided_at FROM invoices WHERE order_id = 'order-v'"
    )
    assert (row.number, row.status, row.void_reason) == (
        f"INV-{year}-000001",
        "VOID",
        "shipment failed",
    )
    assert row.voided_at is not None
    assert billing.metric("surge_billing_invoices_voided_total") == 1

    # A later saga for the same order bills it again under a new number; 000001 stays void.
    await billing.send(issue_command("order-v", saga_id="saga-2"))
    await billing.wait_replies(billing_pb2.InvoiceIssued, 2, "order-v")
    numbers = await billing.rows(
        "SELECT number, status FROM invoices WHERE order_id = 'order-v' ORDER BY seq"
    )
    assert [(r.number, r.status) for r in numbers] == [
        (f"INV-{year}-000001", "VOID"),
        (f"INV-{year}-000003", "ISSUED"),
    ]


async def test_an_issue_arriving_after_its_saga_was_compensated_bills_nothing(
    billing: Billing,
) -> None:
    # The saga gave up on the invoice step and compensated before the command was handled.
    await billing.send(
        billing_pb2.VoidInvoiceCommand(saga_id="saga-late", order_id="order-late", reason="late")
    )
    [voided] = await billing.wait_replies(billing_pb2.InvoiceVoided, 1, "order-late")
    await billing.send(issue_command("order-late", saga_id="saga-late"))
    [rejected] = await billing.wait_replies(billing_pb2.InvoiceRejected, 1, "order-late")

    assert voided.invoice_id == ""
    assert rejected.code == billing_pb2.INVOICE_REJECTION_CODE_INVALID_INVOICE
    assert "compensated" in rejected.reason
    assert await billing.scalar("SELECT count(*) FROM invoices") == 0
    assert await billing.scalar("SELECT count(*) FROM invoice_counters") == 0


async def test_an_invoice_whose_lines_do_not_add_up_is_rejected_without_a_number(
    billing: Billing,
) -> None:
    bad = issue_command("order-bad", amount_minor=1_000)
    bad.total.amount_minor = 999
    await billing.send(bad)
    [rejected] = await billing.wait_replies(billing_pb2.InvoiceRejected, 1, "order-bad")
    await billing.send(issue_command("order-good"))
    [issued] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-good")

    assert rejected.code == billing_pb2.INVOICE_REJECTION_CODE_INVALID_INVOICE
    assert "add up to 1000" in rejected.reason
    assert issued.number.endswith("-000001")


async def test_an_issue_that_rolls_back_after_taking_a_number_gives_the_number_back(
    billing: Billing,
) -> None:
    # Make the INSERT fail after the counter was bumped, in the same transaction.
    async with billing.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION refuse_crash() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF NEW.order_id = 'order-crash' THEN RAISE EXCEPTION 'disk on fire'; "
                "END IF; RETURN NEW; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER refuse_crash BEFORE INSERT ON invoices "
                "FOR EACH ROW EXECUTE FUNCTION refuse_crash()"
            )
        )
    await billing.send(issue_command("order-crash"))

    def dead_lettered() -> bool:
        return billing.metric("surge_dead_lettered_total", consumer="billing-commands") == 1

    await wait_until(dead_lettered, 20, "the failing issue dead-lettered after its retries")
    await billing.send(issue_command("order-after"))
    [issued] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-after")

    assert issued.number == f"INV-{this_year()}-000001"
    assert billing.replies_of(billing_pb2.InvoiceIssued, "order-crash") == []
    assert await billing.scalar("SELECT max(last) FROM invoice_counters") == 1


async def test_numbers_past_999999_grow_a_digit_instead_of_wrapping(billing: Billing) -> None:
    year = this_year()
    async with billing.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO invoice_counters (year, last) VALUES (:y, 999998)"), {"y": year}
        )
    for order in ("order-999999", "order-1000000"):
        await billing.send(issue_command(order))
        await billing.wait_replies(billing_pb2.InvoiceIssued, 1, order)

    assert [r.number for r in billing.replies_of(billing_pb2.InvoiceIssued)] == [
        f"INV-{year}-999999",
        f"INV-{year}-1000000",
    ]
