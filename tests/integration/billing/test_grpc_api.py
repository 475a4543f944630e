"""BillingService over gRPC, against a real `surge-billing` process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from nats.aio.msg import Msg
from surge.billing.v1 import billing_pb2, billing_pb2_grpc
from surge.common.v1 import common_pb2
from surge_platform.grpc import field_violations
from surge_platform.ids import new_id
from surge_platform.messaging import HEADER_MESSAGE_ID, HEADER_TYPE, Topology, connect
from surge_platform.migrations import migrate, migrations_of
from surge_platform.testing.servers import NatsServer, PostgresServer
from surge_platform.testing.services import ServiceProcess, service_env

from tests.integration.billing.conftest import REPLY_TYPES, issue_command
from tests.support import wait_until

MIGRATIONS = migrations_of("surge_billing")

pytestmark = pytest.mark.integration

CNY = "CNY"


@pytest.fixture(scope="module")
def service(postgres_server: PostgresServer, nats_server: NatsServer) -> Iterator[ServiceProcess]:
    """One billing process for the module; tests use their own order and customer ids."""
    database = f"billing_{uuid.uuid4().hex[:12]}"
    postgres_server.psql(f"CREATE DATABASE {database}")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    process = ServiceProcess(
        "billing",
        env=service_env("billing", postgres_server.url(database), nats_server.url, prefix),
    )
    # In-process: `surge-billing migrate` would pay the import cost of a second process.
    migrate(MIGRATIONS, postgres_server.url(database))
    process.start()
    yield process
    assert process.stop() == 0, process.logs()


@pytest.fixture
async def stub(service: ServiceProcess) -> AsyncIterator[billing_pb2_grpc.BillingServiceAsyncStub]:
    async with grpc.aio.insecure_channel(service.address) as channel:
        yield billing_pb2_grpc.BillingServiceStub(channel)


def money(amount_minor: int, currency: str = CNY) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency=currency)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("amount", [0, -500])
async def test_record_payment_with_an_amount_not_above_zero_is_invalid_argument(
    stub: billing_pb2_grpc.BillingServiceAsyncStub, amount: int
) -> None:
    order = unique("order")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RecordPayment(
            billing_pb2.RecordPaymentRequest(
                order_id=order,
                customer_id="c",
                amount=money(amount),
                method="alipay",
                reference="ref-1",
            ),
            timeout=5,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "amount.amount_minor" in field_violations(caught.value)
    # Nothing was recorded: the same reference with a valid amount is a new payment.
    reply = await stub.RecordPayment(
        billing_pb2.RecordPaymentRequest(
            order_id=order,
            customer_id="c",
            amount=money(100),
            method="alipay",
            reference="ref-1",
        ),
        timeout=5,
    )
    assert reply.payment.amount.amount_minor == 100


async def test_record_payment_is_idempotent_on_order_and_reference(
    stub: billing_pb2_grpc.BillingServiceAsyncStub,
) -> None:
    order = unique("order")

    def request(amount: int) -> billing_pb2.RecordPaymentRequest:
        return billing_pb2.RecordPaymentRequest(
            order_id=order,
            customer_id="c",
            amount=money(amount),
            method="bank_transfer",
            reference="BT-0001",
        )

    first = await stub.RecordPayment(request(5_000), timeout=5)
    again = await stub.RecordPayment(request(7_000), timeout=5)

    assert again.payment == first.payment
    assert first.payment.amount == money(5_000)
    assert first.payment.order_id == order


async def test_credit_defaults_to_the_configured_limit_and_follows_set_credit_limit(
    stub: billing_pb2_grpc.BillingServiceAsyncStub,
) -> None:
    customer = unique("cust")
    default = await stub.GetCredit(billing_pb2.GetCreditRequest(customer_id=customer), timeout=5)
    assert default.credit.limit == money(10_000_000)
    assert default.credit.available == money(10_000_000)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SetCreditLimit(
            billing_pb2.SetCreditLimitRequest(customer_id=customer, limit=money(-1)), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "limit.amount_minor" in field_violations(caught.value)

    changed = await stub.SetCreditLimit(
        billing_pb2.SetCreditLimitRequest(customer_id=customer, limit=money(5_000), actor="fin-1"),
        timeout=5,
    )
    assert changed.credit.limit == money(5_000)
    assert changed.credit.used == money(0)


async def test_get_invoice_of_an_unknown_id_is_not_found(
    stub: billing_pb2_grpc.BillingServiceAsyncStub,
) -> None:
    for invoice_id in (new_id(), "not-a-uuid"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetInvoice(billing_pb2.GetInvoiceRequest(invoice_id=invoice_id), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_list_invoices_with_a_forged_page_token_is_invalid_argument(
    stub: billing_pb2_grpc.BillingServiceAsyncStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListInvoices(billing_pb2.ListInvoicesRequest(page_token="!!nope"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_own_credit_limit_invoices_and_paging_end_to_end(
    service: ServiceProcess,
    stub: billing_pb2_grpc.BillingServiceAsyncStub,
    nats_server: NatsServer,
) -> None:
    prefix = service.env["SURGE_BILLING_NATS_PREFIX"]
    topology = Topology(prefix)
    customer = unique("cust")
    replies: list[object] = []
    nc = await connect(nats_server.url, "billing-grpc-test")
    try:

        async def collect(msg: Msg) -> None:
            kind = REPLY_TYPES.get((msg.headers or {}).get(HEADER_TYPE, ""))
            if kind is not None:
                replies.append(kind.FromString(msg.data))

        await nc.subscribe(f"{prefix}.billing.evt.>", cb=collect)
        await nc.flush()
        js = nc.jetstream()

        async def send_and_wait(command: billing_pb2.IssueInvoiceCommand) -> object:
            message_id = new_id()
            await js.publish(
                topology.subject_for(command),
                command.SerializeToString(),
                headers={HEADER_MESSAGE_ID: message_id, "Nats-Msg-Id": message_id},
            )

            def answered() -> bool:
                return any(getattr(r, "order_id", "") == command.order_id for r in replies)

            await wait_until(answered, 20, f"a reply for {command.order_id}")
            return next(r for r in replies if getattr(r, "order_id", "") == command.order_id)

        await stub.SetCreditLimit(
            billing_pb2.SetCreditLimitRequest(customer_id=customer, limit=money(5_000)), timeout=5
        )
        over = await send_and_wait(
            issue_command(unique("order"), customer_id=customer, amount_minor=6_000)
        )
        assert isinstance(over, billing_pb2.InvoiceRejected)
        assert over.code == billing_pb2.INVOICE_REJECTION_CODE_CREDIT_LIMIT_EXCEEDED

        orders = [unique("order") for _ in range(3)]
        for order in orders:
            issued = await send_and_wait(
                issue_command(order, customer_id=customer, amount_minor=1_130)
            )
            assert isinstance(issued, billing_pb2.InvoiceIssued)
    finally:
        await nc.drain()

    credit = await stub.GetCredit(billing_pb2.GetCreditRequest(customer_id=customer), timeout=5)
    assert (credit.credit.used, credit.credit.available) == (money(3_390), money(1_610))

    pages: list[list[str]] = []
    token = ""
    while True:
        page = await stub.ListInvoices(
            billing_pb2.ListInvoicesRequest(customer_id=customer, page_size=2, page_token=token),
            timeout=5,
        )
        pages.append([invoice.order_id for invoice in page.invoices])
        token = page.next_page_token
        if not token:
            break
    assert pages == [[orders[2], orders[1]], [orders[0]]], "newest first, two per page"

    listed = await stub.ListInvoices(billing_pb2.ListInvoicesRequest(order_id=orders[0]), timeout=5)
    invoice = (
        await stub.GetInvoice(
            billing_pb2.GetInvoiceRequest(invoice_id=listed.invoices[0].id), timeout=5
        )
    ).invoice
    assert invoice.status == billing_pb2.INVOICE_STATUS_ISSUED
    assert invoice.payment_terms == common_pb2.PAYMENT_TERMS_ON_ACCOUNT
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        money(1_000),
        money(130),
        money(1_130),
    )
    assert invoice.lines[0].tax == money(130)
    assert invoice.number.startswith("INV-")
    assert invoice.due_at.ToDatetime() > invoice.issued_at.ToDatetime()

    # Paying it in full through the rpc marks it PAID and gives the credit back.
    await stub.RecordPayment(
        billing_pb2.RecordPaymentRequest(
            order_id=orders[0],
            customer_id=customer,
            amount=money(1_130),
            method="alipay",
            reference="ali-1",
        ),
        timeout=5,
    )
    paid = await stub.ListInvoices(
        billing_pb2.ListInvoicesRequest(
            customer_id=customer, status=billing_pb2.INVOICE_STATUS_PAID
        ),
        timeout=5,
    )
    assert [i.order_id for i in paid.invoices] == [orders[0]]
    assert paid.invoices[0].HasField("paid_at")
    credit = await stub.GetCredit(billing_pb2.GetCreditRequest(customer_id=customer), timeout=5)
    assert credit.credit.used == money(2_260)
