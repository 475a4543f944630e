"""Finance over a real billing service: the order ledger fed through NATS, reconciliation on
seeded books with one known mismatch per order, and receivables aging on fixed dates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import text
from surge.billing.v1 import billing_pb2, finance_pb2
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2
from surge_billing.entrypoints import finance_api
from surge_billing.entrypoints.finance_api import FinanceServicer
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork
from surge_platform import errors
from surge_platform.ids import new_id

from tests.integration.billing.conftest import Billing, issue_command
from tests.support import wait_until

pytestmark = pytest.mark.integration

ON_ACCOUNT = common_pb2.PAYMENT_TERMS_ON_ACCOUNT
PREPAID = common_pb2.PAYMENT_TERMS_PREPAID


def stamp(at: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(at)
    return result


def status_event(
    order_id: str,
    status: str,
    *,
    total: int,
    terms: int = ON_ACCOUNT,
    version: int = 1,
    customer_id: str = "cust-rec",
) -> order_pb2.OrderStatusChanged:
    now = datetime.now(UTC)
    return order_pb2.OrderStatusChanged(
        order_id=order_id,
        customer_id=customer_id,
        channel="web",
        to_status=order_pb2.OrderStatus.Value(f"ORDER_STATUS_{status.upper()}"),
        reason="test",
        occurred_at=stamp(now),
        version=version,
        total=common_pb2.Money(amount_minor=total, currency="CNY"),
        payment_terms=terms,  # type: ignore[arg-type]
        placed_at=stamp(now),
    )


def payment(order_id: str, amount: int, ref: str) -> billing_pb2.RecordPaymentCommand:
    return billing_pb2.RecordPaymentCommand(
        order_id=order_id,
        customer_id="cust-rec",
        payment_id=new_id(),
        amount=common_pb2.Money(amount_minor=amount, currency="CNY"),
        method="alipay",
        reference=ref,
    )


def servicer(billing: Billing) -> FinanceServicer:
    return FinanceServicer(lambda: BillingUnitOfWork(billing.engine), "CNY")


async def test_ledger_follows_order_events_and_ignores_stale_versions(billing: Billing) -> None:
    order_id = new_id()
    newer = status_event(order_id, "shipped", total=9_900, version=3)
    await billing.send(newer)
    await billing.send(newer)  # redelivered under a new message id: the version guard holds
    await billing.send(status_event(order_id, "reserving", total=9_900, version=2))

    async def settled() -> bool:
        n = await billing.scalar(
            "SELECT count(*) FROM inbox WHERE consumer = 'billing-order-events'"
        )
        return bool(n == 3)

    await wait_until(settled, 10, "three ledger events handled")
    rows = await billing.rows(
        "SELECT status, total_minor, version, payment_terms FROM order_ledger WHERE order_id = :id",
        id=order_id,
    )
    assert [tuple(r) for r in rows] == [("shipped", 9_900, 3, "ON_ACCOUNT")]


async def test_reconciliation_lists_each_known_mismatch_where_expected(billing: Billing) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    names = ("ok", "late", "paidonly", "amount", "over", "credited", "owed")
    ids = {name: f"{name}-{new_id()}" for name in names}
    ids |= {"uninvoiced": new_id(), "inflight": new_id()}
    events = [
        status_event(ids["ok"], "delivered", total=11_300, terms=PREPAID),
        status_event(ids["late"], "shipped", total=11_300),
        status_event(ids["paidonly"], "cancelled", total=5_000, terms=PREPAID),
        status_event(ids["amount"], "delivered", total=20_000, terms=PREPAID),
        status_event(ids["over"], "delivered", total=11_300),
        status_event(ids["uninvoiced"], "delivered", total=7_000),
        status_event(ids["inflight"], "reserving", total=3_000, terms=PREPAID),
        status_event(ids["credited"], "partially_refunded", total=11_300, terms=PREPAID),
        status_event(ids["owed"], "partially_refunded", total=11_300, terms=PREPAID),
    ]
    for event in events:
        await billing.send(event)
    prepaid = ("ok", "amount", "credited", "owed")
    for name in (*prepaid, "inflight"):
        await billing.send(payment(ids[name], 11_300 if name != "inflight" else 3_000, "p1"))
    await billing.send(payment(ids["paidonly"], 5_000, "p1"))
    await billing.wait_replies(billing_pb2.PaymentRecorded, 6)
    for name in (*prepaid, "late", "over"):
        terms = PREPAID if name in prepaid else ON_ACCOUNT
        await billing.send(issue_command(ids[name], customer_id="cust-rec", terms=terms))
    await billing.wait_replies(billing_pb2.InvoiceIssued, 6)
    # A return credited 3000 on both; only "credited" got its refund, "owed" is still owed it.
    await credit_note(billing, ids["credited"], 3_000, refunded=True)
    await credit_note(billing, ids["owed"], 3_000, refunded=False)
    await billing.send(payment(ids["over"], 11_300, "p1"))
    await billing.send(payment(ids["over"], 500, "p2"))
    await billing.wait_replies(billing_pb2.PaymentRecorded, 8)

    async def ledger_full() -> bool:
        return bool(await billing.scalar("SELECT count(*) FROM order_ledger") == len(events))

    await wait_until(ledger_full, 10, "every order in the ledger")

    end = datetime.now(UTC) + timedelta(minutes=5)
    request = finance_pb2.GetReconciliationRequest(
        period_start=stamp(start), period_end=stamp(end), as_of=stamp(end + timedelta(days=40))
    )
    reply = await servicer(billing).GetReconciliation(request, None)  # type: ignore[arg-type]
    found = {(m.order_id, finance_pb2.MismatchKind.Name(m.kind)) for m in reply.mismatches}
    assert found == {
        (ids["late"], "MISMATCH_KIND_UNPAID_PAST_DUE"),
        (ids["paidonly"], "MISMATCH_KIND_PAID_NOT_INVOICED"),
        (ids["amount"], "MISMATCH_KIND_ORDER_INVOICE_AMOUNT"),
        (ids["over"], "MISMATCH_KIND_PAYMENT_AMOUNT"),
        (ids["uninvoiced"], "MISMATCH_KIND_ORDER_NOT_INVOICED"),
        (ids["owed"], "MISMATCH_KIND_PAYMENT_AMOUNT"),
    }
    over = next(m for m in reply.mismatches if m.order_id == ids["over"])
    assert (over.invoiced.amount_minor, over.paid.amount_minor) == (11_300, 11_800)
    assert reply.summary.order_count == len(events)
    owed = next(m for m in reply.mismatches if m.order_id == ids["owed"])
    assert (owed.invoiced.amount_minor, owed.paid.amount_minor) == (8_300, 11_300)
    assert reply.summary.mismatch_count == 6
    assert reply.summary.invoiced.amount_minor == 6 * 11_300 - 2 * 3_000

    # Before the on-account due date, the unpaid invoice is not late yet.
    request.as_of.CopyFrom(stamp(end))
    early = await servicer(billing).GetReconciliation(request, None)  # type: ignore[arg-type]
    assert ids["late"] not in {m.order_id for m in early.mismatches}


async def credit_note(billing: Billing, order_id: str, amount: int, *, refunded: bool) -> None:
    """A credit note (and its refund) as the returns feature writes them."""
    async with billing.engine.begin() as conn:
        invoice = (
            await conn.execute(
                text("SELECT id, number FROM invoices WHERE order_id = :o"), {"o": order_id}
            )
        ).one()
        seq = int((await conn.execute(text("SELECT count(*) FROM credit_notes"))).scalar()) + 1
        note_id = new_id()
        await conn.execute(
            text(
                "INSERT INTO credit_notes (id, number, year, seq, invoice_id, invoice_number, "
                "order_id, customer_id, return_id, reason, currency, lines, total_minor, "
                "issued_at) VALUES (CAST(:id AS uuid), :number, 2026, :seq, :invoice_id, "
                ":invoice_number, :order_id, 'cust-rec', :return_id, 'broken', 'CNY', "
                "CAST('[]' AS jsonb), :amount, now())"
            ),
            {
                "id": note_id,
                "number": f"CN-2026-{seq:06d}",
                "seq": seq,
                "invoice_id": invoice.id,
                "invoice_number": invoice.number,
                "order_id": order_id,
                "return_id": new_id(),
                "amount": amount,
            },
        )
        if refunded:
            await conn.execute(
                text(
                    "INSERT INTO refunds (id, source_id, order_id, customer_id, credit_note_id, "
                    "amount_minor, currency, reason, refunded_at) VALUES (CAST(:id AS uuid), "
                    ":source, :order_id, 'cust-rec', CAST(:note AS uuid), :amount, 'CNY', "
                    "'return', now())"
                ),
                {
                    "id": new_id(),
                    "source": f"return:{note_id}",
                    "order_id": order_id,
                    "note": note_id,
                    "amount": amount,
                },
            )


async def test_reconciliation_rejects_an_empty_period(billing: Billing) -> None:
    at = stamp(datetime(2026, 1, 1, tzinfo=UTC))
    request = finance_pb2.GetReconciliationRequest(period_start=at, period_end=at)
    with pytest.raises(errors.InvalidArgument) as raised:
        await servicer(billing).GetReconciliation(request, None)  # type: ignore[arg-type]
    assert "period_end" in raised.value.field_violations


async def seed_invoice(
    billing: Billing,
    customer_id: str,
    total: int,
    *,
    due: datetime,
    issued: datetime | None = None,
    paid_at: datetime | None = None,
    voided_at: datetime | None = None,
) -> str:
    """An invoice row as billing writes it, on fixed dates (issuing through NATS stamps `now`)."""
    invoice_id, order_id = new_id(), new_id()
    seq = int(await billing.scalar("SELECT count(*) FROM invoices")) + 1
    status = "VOID" if voided_at else "PAID" if paid_at else "ISSUED"
    params: dict[str, Any] = {
        "id": invoice_id,
        "number": f"INV-2026-{seq:06d}",
        "seq": seq,
        "order_id": order_id,
        "customer_id": customer_id,
        "status": status,
        "total": total,
        "issued": issued or due - timedelta(days=30),
        "due": due,
        "paid_at": paid_at,
        "voided_at": voided_at,
        "lines": json.dumps([]),
    }
    async with billing.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO invoices (id, number, year, seq, saga_id, order_id, customer_id, "
                "status, payment_terms, currency, lines, subtotal_minor, tax_minor, "
                "discount_minor, total_minor, issued_at, due_at, paid_at, voided_at) VALUES "
                "(:id, :number, 2026, :seq, 'seed', :order_id, :customer_id, :status, "
                "'ON_ACCOUNT', 'CNY', CAST(:lines AS jsonb), :total, 0, 0, :total, :issued, "
                ":due, :paid_at, :voided_at)"
            ),
            params,
        )
    return order_id


async def test_aging_buckets_open_receivables_by_days_past_due(billing: Billing) -> None:
    as_of = datetime(2026, 6, 30, tzinfo=UTC)
    day = timedelta(days=1)
    a, b = "cust-aging-a", "cust-aging-b"
    await seed_invoice(billing, a, 1_000, due=as_of + 10 * day)  # current
    await seed_invoice(billing, a, 2_000, due=as_of - day)  # 1 day late
    await seed_invoice(billing, a, 4_000, due=as_of - 30 * day)  # 30 days: still 1-30
    await seed_invoice(billing, a, 8_000, due=as_of - 30 * day - timedelta(hours=1))  # 31
    await seed_invoice(billing, a, 16_000, due=as_of - 90 * day)  # 61-90
    partly = await seed_invoice(billing, a, 32_000, due=as_of - 121 * day)  # 90+
    await seed_invoice(billing, a, 64_000, due=as_of - 5 * day, paid_at=as_of + day)  # open then
    await seed_invoice(billing, a, 500, due=as_of - 5 * day, paid_at=as_of - day)  # settled
    await seed_invoice(billing, a, 700, due=as_of - 5 * day, voided_at=as_of - day)  # void
    await seed_invoice(billing, a, 900, due=as_of + 30 * day, issued=as_of + day)  # not yet
    await seed_invoice(billing, b, 3_000, due=as_of - 45 * day)
    async with billing.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO payments (id, order_id, customer_id, amount_minor, currency, "
                "method, reference, received_at) VALUES "
                "(CAST(:id AS uuid), :order_id, :c, 2000, 'CNY', 'bank', 'r1', :at)"
            ),
            {"id": new_id(), "order_id": partly, "c": a, "at": as_of - 10 * day},
        )

    reply = await servicer(billing).GetReceivablesAging(
        finance_pb2.GetReceivablesAgingRequest(as_of=stamp(as_of)),
        None,  # type: ignore[arg-type]
    )
    rows = {
        r.customer_id: (
            r.current.amount_minor,
            r.days_1_30.amount_minor,
            r.days_31_60.amount_minor,
            r.days_61_90.amount_minor,
            r.days_over_90.amount_minor,
            r.total.amount_minor,
            r.invoice_count,
        )
        for r in reply.rows
    }
    assert rows == {
        a: (1_000, 2_000 + 4_000 + 64_000, 8_000, 16_000, 30_000, 125_000, 7),
        b: (0, 0, 3_000, 0, 0, 3_000, 1),
    }
    assert reply.total.total.amount_minor == 128_000

    only_b = await servicer(billing).GetReceivablesAging(
        finance_pb2.GetReceivablesAgingRequest(as_of=stamp(as_of), customer_id=b),
        None,  # type: ignore[arg-type]
    )
    assert [r.customer_id for r in only_b.rows] == [b]


async def test_invoice_export_streams_every_match_in_issue_order(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(finance_api, "EXPORT_PAGE", 2)  # several chunks from a few invoices
    due = datetime(2026, 5, 1, tzinfo=UTC)
    for n in range(5):
        await seed_invoice(billing, "cust-x", 100 + n, due=due, issued=due + timedelta(hours=n))
    await seed_invoice(billing, "cust-y", 999, due=due, issued=due)
    await seed_invoice(billing, "cust-x", 7, due=due, issued=due - timedelta(days=1))
    request = finance_pb2.ExportInvoicesRequest(
        customer_id="cust-x", issued_from=stamp(due), issued_to=stamp(due + timedelta(hours=4))
    )
    chunks = [
        c
        async for c in servicer(billing).ExportInvoices(request, None)  # type: ignore[arg-type]
    ]
    assert [len(c.invoices) for c in chunks] == [2, 2]
    assert [i.total.amount_minor for c in chunks for i in c.invoices] == [100, 101, 102, 103]
