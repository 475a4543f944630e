"""Payments settle invoices; the FAIL-INVOICE- test hook works only when switched on."""

from __future__ import annotations

import pytest
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2

from tests.integration.billing.conftest import Billing, StartBilling, issue_command

pytestmark = pytest.mark.integration


def payment(order_id: str, payment_id: str, amount_minor: int) -> billing_pb2.RecordPaymentCommand:
    return billing_pb2.RecordPaymentCommand(
        order_id=order_id,
        customer_id="cust-1",
        payment_id=payment_id,
        amount=common_pb2.Money(amount_minor=amount_minor, currency="CNY"),
        method="alipay",
        reference=f"ali-{payment_id}",
    )


async def invoice_status(billing: Billing, order_id: str) -> tuple[str, bool]:
    [row] = await billing.rows(
        "SELECT status, paid_at FROM invoices WHERE order_id = :o AND status <> 'VOID'", o=order_id
    )
    return row.status, row.paid_at is not None


async def test_payments_covering_the_total_mark_the_invoice_paid(billing: Billing) -> None:
    await billing.send(issue_command("order-p", amount_minor=11_300))
    await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-p")

    await billing.send(payment("order-p", "pay-1", 5_000))
    await billing.wait_replies(billing_pb2.PaymentRecorded, 1, "order-p")
    assert await invoice_status(billing, "order-p") == ("ISSUED", False)

    await billing.send(payment("order-p", "pay-2", 6_300))
    recorded = await billing.wait_replies(billing_pb2.PaymentRecorded, 2, "order-p")
    assert await invoice_status(billing, "order-p") == ("PAID", True)
    assert [r.payment_id for r in recorded] == ["pay-1", "pay-2"]
    assert recorded[1].amount == common_pb2.Money(amount_minor=6_300, currency="CNY")
    assert billing.metric("surge_billing_invoices_paid_total") == 1


async def test_a_repeated_payment_command_replies_again_and_records_one_payment(
    billing: Billing,
) -> None:
    await billing.send(payment("order-r", "pay-r", 700))
    await billing.send(payment("order-r", "pay-r", 700))
    replies = await billing.wait_replies(billing_pb2.PaymentRecorded, 2, "order-r")

    assert {r.payment_id for r in replies} == {"pay-r"}
    assert await billing.scalar("SELECT count(*) FROM payments WHERE order_id = 'order-r'") == 1
    assert billing.metric("surge_billing_payments_total", source="command") == 1
    assert billing.metric("surge_billing_payments_received_minor_total", currency="CNY") == 700


async def test_a_prepaid_order_paid_before_invoicing_is_invoiced_as_paid(
    start_billing: StartBilling,
) -> None:
    # Credit would refuse this on account; payment first means no credit is needed.
    billing = await start_billing(default_credit_limit_minor=0)
    await billing.send(payment("order-pp", "pay-pp", 11_300))
    await billing.wait_replies(billing_pb2.PaymentRecorded, 1, "order-pp")
    await billing.send(
        issue_command("order-pp", amount_minor=11_300, terms=common_pb2.PAYMENT_TERMS_PREPAID)
    )
    await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-pp")

    assert await invoice_status(billing, "order-pp") == ("PAID", True)


async def test_the_fail_invoice_hook_rejects_only_when_enabled(
    start_billing: StartBilling,
) -> None:
    billing = await start_billing(test_failures_enabled=True)
    await billing.send(issue_command("order-f", sku="FAIL-INVOICE-x1"))
    [rejected] = await billing.wait_replies(billing_pb2.InvoiceRejected, 1, "order-f")
    await billing.send(issue_command("order-ok", sku="SKU-TEA"))
    [issued] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-ok")

    assert rejected.code == billing_pb2.INVOICE_REJECTION_CODE_INVALID_INVOICE
    assert "FAIL-INVOICE-x1" in rejected.reason
    assert issued.number.endswith("-000001"), "the rejected invoice took no number"
    assert billing.metric("surge_billing_invoices_rejected_total", reason="invalid_invoice") == 1


async def test_the_fail_invoice_hook_is_off_by_default(billing: Billing) -> None:
    await billing.send(issue_command("order-f", sku="FAIL-INVOICE-x2"))
    [issued] = await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-f")
    assert issued.number.endswith("-000001")
