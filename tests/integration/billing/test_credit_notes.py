"""Credit notes and refunds over JetStream: gapless CN numbers under concurrency, over-credit
refused, idempotent repeats, the cancellation refund and the order balance invariant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

import pytest
from google.protobuf.message import Message
from nats.aio.msg import Msg
from surge.billing.v1 import billing_pb2
from surge.billing.v1 import credit_notes_pb2 as cn
from surge.common.v1 import common_pb2
from surge_billing.adapters.credit_notes_repository import CreditNoteRepository
from surge_billing.domain.credit_notes import Balance
from surge_platform.messaging import HEADER_TYPE, connect
from surge_platform.testing.servers import NatsServer

from tests.integration.billing.conftest import Billing, StartBilling, issue_command, this_year
from tests.support import wait_until

pytestmark = pytest.mark.integration
M = TypeVar("M", bound=Message)

TYPES: dict[str, type[Message]] = {
    t.DESCRIPTOR.full_name: t
    for t in (cn.CreditNoteIssued, cn.CreditNoteRejected, cn.PaymentRefunded)
}


class Replies:
    def __init__(self) -> None:
        self.items: list[Message] = []

    async def collect(self, msg: Msg) -> None:
        kind = TYPES.get((msg.headers or {}).get(HEADER_TYPE, ""))
        if kind is not None:
            self.items.append(kind.FromString(msg.data))

    async def wait(self, kind: type[M], count: int, order_id: str | None = None) -> list[M]:
        def found() -> list[M]:
            return [
                r
                for r in self.items
                if isinstance(r, kind) and order_id in (None, getattr(r, "order_id", None))
            ]

        await wait_until(lambda: len(found()) >= count, 20, f"{count} {kind.DESCRIPTOR.name}")
        return found()


@pytest.fixture
async def started(
    start_billing: StartBilling, nats_server: NatsServer, nats_prefix: str
) -> AsyncIterator[tuple[Billing, Replies]]:
    billing = await start_billing()
    replies = Replies()
    # The fixture's own subscriber keeps invoice replies only; this one keeps ours.
    client = await connect(nats_server.url, "credit-notes-test")
    await client.subscribe(f"{nats_prefix}.billing.evt.>", cb=replies.collect)
    await client.flush()
    try:
        yield billing, replies
    finally:
        await client.drain()


def credit(
    order_id: str, return_id: str, amount: int, sku: str = "SKU-TEA"
) -> cn.IssueCreditNoteCommand:
    money = common_pb2.Money(amount_minor=amount, currency="CNY")
    return cn.IssueCreditNoteCommand(
        return_id=return_id,
        order_id=order_id,
        customer_id="cust-1",
        reason="damaged on arrival",
        lines=[cn.CreditNoteLine(sku=sku, quantity=1, amount=money)],
        total=money,
    )


def payment(order_id: str, amount: int) -> billing_pb2.RecordPaymentCommand:
    return billing_pb2.RecordPaymentCommand(
        order_id=order_id,
        customer_id="cust-1",
        payment_id=f"pay-{order_id}",
        amount=common_pb2.Money(amount_minor=amount, currency="CNY"),
        method="alipay",
        reference=f"ALI-{order_id}",
    )


async def balance(billing: Billing, order_id: str) -> Balance:
    async with billing.engine.connect() as conn:
        return await CreditNoteRepository(conn).balance(order_id)


async def test_fifty_concurrent_credit_notes_take_numbers_1_to_50_without_gap_or_duplicate(
    started: tuple[Billing, Replies],
) -> None:
    billing, replies = started
    year = this_year()
    orders = [f"order-{n}" for n in range(50)]
    await asyncio.gather(
        *(billing.send(issue_command(o, customer_id=o, amount_minor=500)) for o in orders)
    )
    await billing.wait_replies(billing_pb2.InvoiceIssued, 50)
    await asyncio.gather(*(billing.send(credit(o, f"ret-{o}", 200)) for o in orders))
    issued = await replies.wait(cn.CreditNoteIssued, 50)

    numbers = sorted(r.credit_note.number for r in issued)
    assert numbers == [f"CN-{year}-{n:06d}" for n in range(1, 51)]
    assert (
        await billing.scalar("SELECT last FROM credit_note_counters WHERE year = :y", y=year) == 50
    )
    assert all(r.credit_note.invoice_number.startswith(f"INV-{year}-") for r in issued)
    # Unpaid on-account orders: credited, nothing refunded, the customer owes 500 - 200.
    assert all(not r.HasField("refund") for r in issued)
    assert (await balance(billing, "order-7")).balance_minor == 300


async def test_a_paid_order_is_refunded_with_its_credit_note_and_over_credit_is_refused(
    started: tuple[Billing, Replies],
) -> None:
    billing, replies = started
    await billing.send(issue_command("order-p", amount_minor=1_000))
    await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-p")
    await billing.send(payment("order-p", 1_000))
    await billing.wait_replies(billing_pb2.PaymentRecorded, 1, "order-p")

    command = credit("order-p", "ret-1", 600)
    await asyncio.gather(billing.send(command), billing.send(command))  # a resend, raced
    first, again = await replies.wait(cn.CreditNoteIssued, 2, "order-p")
    assert first.credit_note.id == again.credit_note.id
    assert first.refund.amount.amount_minor == 600
    b = await balance(billing, "order-p")
    assert (b.invoiced_minor, b.credited_minor, b.paid_minor, b.refunded_minor) == (
        1_000,
        600,
        1_000,
        600,
    )
    assert b.balance_minor == 0

    await billing.send(credit("order-p", "ret-2", 401))  # only 400 left to credit
    [refused] = await replies.wait(cn.CreditNoteRejected, 1, "order-p")
    assert "exceeds" in refused.reason
    assert await billing.scalar("SELECT count(*) FROM refunds WHERE order_id = 'order-p'") == 1
    assert (await balance(billing, "order-p")).balance_minor == 0


async def test_a_cancelled_paid_order_is_refunded_once(started: tuple[Billing, Replies]) -> None:
    billing, replies = started
    await billing.send(issue_command("order-c", amount_minor=800))
    await billing.wait_replies(billing_pb2.InvoiceIssued, 1, "order-c")
    await billing.send(payment("order-c", 800))
    await billing.wait_replies(billing_pb2.PaymentRecorded, 1, "order-c")
    await billing.send(billing_pb2.VoidInvoiceCommand(saga_id="saga-order-c", order_id="order-c"))
    await billing.wait_replies(billing_pb2.InvoiceVoided, 1, "order-c")

    refund = cn.RefundCancelledOrderCommand(
        order_id="order-c",
        customer_id="cust-1",
        amount=common_pb2.Money(amount_minor=800, currency="CNY"),
        reason="cancelled by customer",
    )
    await billing.send(refund)
    await billing.send(refund)
    replies_ = await replies.wait(cn.PaymentRefunded, 2, "order-c")
    assert {r.refund.id for r in replies_} == {replies_[0].refund.id}
    assert replies_[0].refund.source_id == "cancel:order-c"
    b = await balance(billing, "order-c")
    assert (b.invoiced_minor, b.paid_minor, b.refunded_minor, b.balance_minor) == (0, 800, 800, 0)
