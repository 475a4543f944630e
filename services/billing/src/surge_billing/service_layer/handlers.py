"""Billing handlers: one async function per command, each in one unit of work.

Saga commands (IssueInvoice, VoidInvoice, RecordPayment) arrive through `idempotent()`, which
has already opened the unit of work and claimed the message in the inbox; the handler does its
work, adds the reply to the outbox and commits. The rpcs that change state (RecordPayment,
SetCreditLimit) are called by the gRPC entrypoint with a unit of work it opened.

Every saga handler is idempotent on the order: a repeated command (new message id, same order)
gets the same reply and has no second effect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from google.protobuf.message import Message
from surge.billing.v1 import billing_pb2
from surge_platform import errors
from surge_platform.ids import new_id
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_billing.adapters.metrics import BillingMetrics
from surge_billing.domain.credit import Credit
from surge_billing.domain.invoices import (
    InvalidInvoice,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentTerms,
    invoice_number,
    price_invoice,
)
from surge_billing.domain.payments import payment_violations
from surge_billing.service_layer import convert
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = [
    "FAIL_INVOICE_PREFIX",
    "BillingPolicy",
    "HandlerContext",
    "credit_of",
    "issue_invoice",
    "record_payment",
    "record_payment_command",
    "set_credit_limit",
    "void_invoice",
]

FAIL_INVOICE_PREFIX = "FAIL-INVOICE-"

_log = get_logger("surge.billing")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BillingPolicy:
    """The business settings handlers need, taken from `BillingSettings` in bootstrap."""

    vat_rate_percent: int = 13
    default_credit_limit_minor: int = 10_000_000
    credit_currency: str = "CNY"
    credit_period: timedelta = timedelta(days=30)
    books_timezone: timezone = timezone(timedelta(hours=8))
    test_failures_enabled: bool = False


@dataclass(frozen=True)
class HandlerContext:
    policy: BillingPolicy
    topology: Topology
    metrics: BillingMetrics
    clock: Callable[[], datetime] = _utcnow

    def reply(self, uow: BillingUnitOfWork, message: Message) -> None:
        uow.outbox.add(self.topology.subject_for(message), message)


async def issue_invoice(
    cmd: billing_pb2.IssueInvoiceCommand, uow: BillingUnitOfWork, *, ctx: HandlerContext
) -> None:
    """Issue the order's invoice with the year's next number, or reject it.

    Order of checks: the shape (no I/O); an invoice already issued for the order (or by this
    saga) is replied to again; a saga whose invoice step was already compensated gets no
    invoice; then the test hook and the credit limit. The number is taken last, so a rejected or
    rolled-back issue never consumes one, and the year's counter row is locked briefly.
    """
    try:
        request = convert.invoice_request(cmd)
        priced = price_invoice(
            request.lines, ctx.policy.vat_rate_percent, request.declared_total_minor
        )
    except InvalidInvoice as exc:
        await _reject(cmd, uow, ctx, billing_pb2.INVOICE_REJECTION_CODE_INVALID_INVOICE, exc.reason)
        return
    # An on-account invoice checks the customer's credit (unless payments cover it): its lock
    # and its read go with the order's, one round trip each.
    on_account = request.terms is PaymentTerms.ON_ACCOUNT
    customer = cmd.customer_id if on_account else None
    policy = ctx.policy
    query = (
        (customer, policy.default_credit_limit_minor, policy.credit_currency)
        if customer is not None
        else None
    )
    await uow.invoices.lock_order(cmd.order_id, then_customer=customer)
    known = await uow.invoices.issue_context(
        cmd.order_id, cmd.saga_id, request.currency, credit=query
    )
    if known.existing is not None:
        ctx.reply(uow, _issued(cmd, known.existing))
        await uow.commit()
        return
    if known.cancelled:
        await _reject(
            cmd,
            uow,
            ctx,
            billing_pb2.INVOICE_REJECTION_CODE_INVALID_INVOICE,
            f"invoicing of order {cmd.order_id} was already compensated in saga {cmd.saga_id}",
        )
        return
    if ctx.policy.test_failures_enabled:
        failing = [line.sku for line in priced.lines if line.sku.startswith(FAIL_INVOICE_PREFIX)]
        if failing:
            await _reject(
                cmd,
                uow,
                ctx,
                billing_pb2.INVOICE_REJECTION_CODE_INVALID_INVOICE,
                f"test hook: SKU {failing[0]} fails invoicing on purpose",
            )
            return

    covered = known.paid_minor >= priced.total_minor
    if on_account and not covered:
        credit = known.credit
        if credit is None:  # the context came from a group commit's read-ahead
            credit = await credit_of(uow, ctx.policy, cmd.customer_id)
        if request.currency != credit.currency:
            await _reject(
                cmd,
                uow,
                ctx,
                billing_pb2.INVOICE_REJECTION_CODE_CREDIT_LIMIT_EXCEEDED,
                f"customer {cmd.customer_id} has no credit in {request.currency}: "
                f"credit limits are in {credit.currency}",
            )
            return
        if not credit.allows(priced.total_minor):
            await _reject(
                cmd,
                uow,
                ctx,
                billing_pb2.INVOICE_REJECTION_CODE_CREDIT_LIMIT_EXCEEDED,
                credit.refusal(priced.total_minor),
            )
            return

    now = ctx.clock()
    year = now.astimezone(ctx.policy.books_timezone).year
    draft = Invoice(
        id=new_id(),
        number="",
        saga_id=cmd.saga_id,
        order_id=cmd.order_id,
        customer_id=cmd.customer_id,
        status=InvoiceStatus.PAID if covered else InvoiceStatus.ISSUED,
        payment_terms=request.terms,
        currency=request.currency,
        lines=priced.lines,
        subtotal_minor=priced.subtotal_minor,
        tax_minor=priced.tax_minor,
        discount_minor=priced.discount_minor,
        total_minor=priced.total_minor,
        issued_at=now,
        due_at=now + ctx.policy.credit_period if request.terms is PaymentTerms.ON_ACCOUNT else now,
        paid_at=now if covered else None,
    )
    seq, number = await uow.invoices.add_numbered(draft, year=year)
    if number != invoice_number(year, seq):
        raise RuntimeError(f"database numbered invoice {seq} of {year} as {number!r}")
    invoice = dataclasses.replace(draft, number=number)
    ctx.reply(uow, _issued(cmd, invoice))
    await uow.commit()
    ctx.metrics.invoices_issued.labels(invoice.payment_terms.value.lower()).inc()
    ctx.metrics.invoiced_minor.labels(invoice.currency).inc(invoice.total_minor)
    if covered:
        ctx.metrics.invoices_paid.inc()


async def void_invoice(
    cmd: billing_pb2.VoidInvoiceCommand, uow: BillingUnitOfWork, *, ctx: HandlerContext
) -> None:
    """Void the order's live invoice (compensation). The number stays taken, never reused.

    A repeat, or an order with no invoice, replies InvoiceVoided again with no second effect;
    the saga is remembered as compensated so a late IssueInvoice for it bills nothing.
    """
    await uow.invoices.lock_order(cmd.order_id)
    current = await uow.invoices.current_for_issue(cmd.order_id, cmd.saga_id)
    voided_now = False
    if current is not None and current.live:
        voided_now = await uow.invoices.void(current.id, cmd.reason or "voided", ctx.clock())
    elif current is None:
        current = await uow.invoices.latest_void_for_order(cmd.order_id)
    invoice_id = current.id if current else ""
    await uow.invoices.record_cancellation(cmd.order_id, cmd.saga_id, cmd.reason)
    ctx.reply(
        uow,
        billing_pb2.InvoiceVoided(
            saga_id=cmd.saga_id, order_id=cmd.order_id, invoice_id=invoice_id
        ),
    )
    await uow.commit()
    if voided_now:
        ctx.metrics.invoices_voided.inc()


async def record_payment_command(
    cmd: billing_pb2.RecordPaymentCommand, uow: BillingUnitOfWork, *, ctx: HandlerContext
) -> None:
    """A payment from the order service, idempotent on its payment_id.

    A repeat replies PaymentRecorded again (with the first payment) and changes nothing. A
    malformed command raises, so the consumer retries it and then dead-letters it.
    """
    violations = payment_violations(
        order_id=cmd.order_id,
        amount_minor=cmd.amount.amount_minor,
        currency=cmd.amount.currency,
        reference=cmd.reference,
        reference_required=False,
    )
    if not cmd.payment_id:
        violations["payment_id"] = "is required: it makes the payment idempotent"
    if violations:
        raise errors.InvalidArgument("invalid RecordPaymentCommand", violations)
    payment, _ = await _record(
        uow,
        ctx,
        Payment(
            id=new_id(),
            order_id=cmd.order_id,
            customer_id=cmd.customer_id,
            amount_minor=cmd.amount.amount_minor,
            currency=cmd.amount.currency,
            method=cmd.method,
            reference=cmd.reference,
            received_at=ctx.clock(),
            source_id=cmd.payment_id,
        ),
        source="command",
    )
    ctx.reply(uow, _payment_recorded(payment))
    await uow.commit()


async def record_payment(
    request: billing_pb2.RecordPaymentRequest, uow: BillingUnitOfWork, *, ctx: HandlerContext
) -> Payment:
    """Finance records a payment; idempotent on (order_id, reference). Emits PaymentRecorded
    the first time only; a repeat returns the first payment."""
    violations = payment_violations(
        order_id=request.order_id,
        amount_minor=request.amount.amount_minor,
        currency=request.amount.currency,
        reference=request.reference,
        reference_required=True,
    )
    if violations:
        raise errors.InvalidArgument("invalid payment", violations)
    payment, created = await _record(
        uow,
        ctx,
        Payment(
            id=new_id(),
            order_id=request.order_id,
            customer_id=request.customer_id,
            amount_minor=request.amount.amount_minor,
            currency=request.amount.currency,
            method=request.method,
            reference=request.reference,
            received_at=ctx.clock(),
        ),
        source="rpc",
    )
    if created:
        ctx.reply(uow, _payment_recorded(payment))
    await uow.commit()
    return payment


async def _record(
    uow: BillingUnitOfWork, ctx: HandlerContext, payment: Payment, *, source: str
) -> tuple[Payment, bool]:
    """Insert the payment unless it exists and mark the order's invoice PAID once payments
    cover it. The caller commits; the metrics are counted only if that commit succeeds."""
    await uow.invoices.lock_order(payment.order_id)
    existing = None
    if payment.source_id:
        existing = await uow.payments.by_source_id(payment.source_id)
    if existing is None and payment.reference:
        existing = await uow.payments.by_reference(payment.order_id, payment.reference)
    if existing is not None:
        return existing, False
    if not await uow.payments.add(payment):
        raise errors.Conflict(
            f"payment {payment.source_id or payment.reference} of order {payment.order_id} "
            "conflicts with an existing payment"
        )
    invoice = await uow.invoices.live_for_order(payment.order_id)
    settled = False
    if invoice is not None and invoice.status is InvoiceStatus.ISSUED:
        paid = await uow.payments.total_for_order(payment.order_id, invoice.currency)
        if paid >= invoice.total_minor:
            settled = await uow.invoices.mark_paid(invoice.id, payment.received_at)
    uow.after_commit(lambda: _count_payment(ctx, payment, source, settled))
    return payment, True


def _count_payment(ctx: HandlerContext, payment: Payment, source: str, settled: bool) -> None:
    ctx.metrics.payments.labels(source).inc()
    ctx.metrics.payments_minor.labels(payment.currency).inc(payment.amount_minor)
    if settled:
        ctx.metrics.invoices_paid.inc()


async def set_credit_limit(
    request: billing_pb2.SetCreditLimitRequest, uow: BillingUnitOfWork, *, ctx: HandlerContext
) -> Credit:
    violations: dict[str, str] = {}
    if not request.customer_id:
        violations["customer_id"] = "is required"
    if request.limit.amount_minor < 0:
        violations["limit.amount_minor"] = f"must be at least 0, got {request.limit.amount_minor}"
    currency = request.limit.currency or ctx.policy.credit_currency
    if currency != ctx.policy.credit_currency:
        violations["limit.currency"] = f"credit limits are in {ctx.policy.credit_currency}"
    if violations:
        raise errors.InvalidArgument("invalid credit limit", violations)
    await uow.invoices.lock_customer(request.customer_id)
    await uow.credit.set_limit(
        request.customer_id,
        request.limit.amount_minor,
        currency,
        request.actor or "unknown",
        ctx.clock(),
    )
    credit = await credit_of(uow, ctx.policy, request.customer_id)
    await uow.commit()
    _log.info(
        "credit limit set",
        customer_id=request.customer_id,
        limit_minor=request.limit.amount_minor,
        actor=request.actor,
    )
    return credit


async def credit_of(uow: BillingUnitOfWork, policy: BillingPolicy, customer_id: str) -> Credit:
    """The customer's own limit, or the default; used = issued, unpaid ON_ACCOUNT invoices."""
    return await uow.credit.credit(
        customer_id, policy.default_credit_limit_minor, policy.credit_currency
    )


def _issued(cmd: billing_pb2.IssueInvoiceCommand, invoice: Invoice) -> billing_pb2.InvoiceIssued:
    return billing_pb2.InvoiceIssued(
        saga_id=cmd.saga_id,
        order_id=cmd.order_id,
        invoice_id=invoice.id,
        number=invoice.number,
        total=convert.money(invoice.total_minor, invoice.currency),
    )


def _payment_recorded(payment: Payment) -> billing_pb2.PaymentRecorded:
    return billing_pb2.PaymentRecorded(
        order_id=payment.order_id,
        payment_id=payment.source_id or payment.id,
        amount=convert.payment_to_proto(payment).amount,
    )


async def _reject(
    cmd: billing_pb2.IssueInvoiceCommand,
    uow: BillingUnitOfWork,
    ctx: HandlerContext,
    code: billing_pb2.InvoiceRejectionCode,
    reason: str,
) -> None:
    ctx.reply(
        uow,
        billing_pb2.InvoiceRejected(
            saga_id=cmd.saga_id, order_id=cmd.order_id, reason=reason, code=code
        ),
    )
    await uow.commit()
    label = billing_pb2.InvoiceRejectionCode.Name(code).removeprefix("INVOICE_REJECTION_CODE_")
    ctx.metrics.invoices_rejected.labels(label.lower()).inc()
    _log.info("invoice rejected", order_id=cmd.order_id, code=label, reason=reason)
