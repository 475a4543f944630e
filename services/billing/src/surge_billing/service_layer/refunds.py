"""Credit notes and refunds: the two commands from the order service, and the reads.

`issue_credit_note` (a return's refund step) and `refund_cancelled_order` (a paid order that
was cancelled) arrive through `idempotent()`; each is also idempotent on its business key
(return id, order id), because the order service resends a step whose reply it has not seen,
with a new message id. Both hold the order's advisory lock, like payments and invoices, so the
balance they read cannot change under them.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timezone

from google.protobuf.message import Message
from surge.billing.v1 import credit_notes_pb2 as pb
from surge_platform import errors
from surge_platform.ids import new_id
from surge_platform.logging import get_logger
from surge_platform.messaging import Topology

from surge_billing.adapters.refund_metrics import RefundMetrics
from surge_billing.domain.credit_notes import (
    Balance,
    CreditNote,
    CreditNoteLine,
    CreditRefused,
    Refund,
    cancellation_source,
    credit_note_number,
    refund_for_credit,
    return_source,
)
from surge_billing.service_layer import refunds_convert as convert
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = [
    "FAIL_CREDIT_PREFIX",
    "RefundContext",
    "get_balance",
    "get_credit_note",
    "issue_credit_note",
    "list_credit_notes",
    "list_refunds",
    "refund_cancelled_order",
]

_log = get_logger("surge.billing.refunds")
# With test failures enabled, a credit note for such a SKU is refused (drives compensation).
FAIL_CREDIT_PREFIX = "FAIL-CREDIT-"
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RefundContext:
    topology: Topology
    metrics: RefundMetrics
    books_timezone: timezone
    test_failures_enabled: bool = False
    clock: Callable[[], datetime] = _utcnow

    def reply(self, uow: BillingUnitOfWork, message: Message) -> None:
        uow.outbox.add(self.topology.subject_for(message), message)


async def issue_credit_note(
    cmd: pb.IssueCreditNoteCommand, uow: BillingUnitOfWork, *, ctx: RefundContext
) -> None:
    """Credit part of the order's live invoice and refund what was paid for it, or refuse.

    The number is taken last (the counter row is locked until commit), so a refusal or a
    rollback never consumes one.
    """
    if not cmd.return_id or not cmd.order_id:
        raise errors.InvalidArgument(
            "invalid IssueCreditNoteCommand",
            {"return_id": "is required", "order_id": "is required"},
        )
    await uow.invoices.lock_order(cmd.order_id)
    existing = await uow.credit_notes.for_return(cmd.return_id)
    if existing is not None:
        refund = await uow.credit_notes.refund_by_source(return_source(cmd.return_id))
        ctx.reply(uow, _issued(cmd, existing, refund))
        await uow.commit()
        return
    invoice = await uow.invoices.live_for_order(cmd.order_id)
    lines = tuple(CreditNoteLine(ln.sku, ln.quantity, ln.amount.amount_minor) for ln in cmd.lines)
    total = sum(line.amount_minor for line in lines)
    try:
        if invoice is None:
            raise CreditRefused(f"order {cmd.order_id} has no live invoice to credit")
        failing = [ln.sku for ln in lines if ln.sku.startswith(FAIL_CREDIT_PREFIX)]
        if ctx.test_failures_enabled and failing:
            raise CreditRefused(f"test hook: SKU {failing[0]} fails crediting on purpose")
        if cmd.total.currency != invoice.currency or total != cmd.total.amount_minor:
            raise CreditRefused(
                f"lines add up to {total} {invoice.currency}, not {cmd.total.amount_minor} "
                f"{cmd.total.currency}"
            )
        refund_minor = refund_for_credit(
            total_minor=total,
            invoice_total_minor=invoice.total_minor,
            credited_minor=await uow.credit_notes.credited_on(invoice.id),
            balance=await uow.credit_notes.balance(cmd.order_id),
        )
    except CreditRefused as exc:
        ctx.reply(
            uow,
            pb.CreditNoteRejected(
                return_id=cmd.return_id, order_id=cmd.order_id, reason=exc.reason
            ),
        )
        await uow.commit()
        ctx.metrics.credit_notes_rejected.inc()
        _log.info("credit note refused", order_id=cmd.order_id, reason=exc.reason)
        return
    now = ctx.clock()
    draft = CreditNote(
        id=new_id(),
        number="",
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        order_id=cmd.order_id,
        customer_id=cmd.customer_id or invoice.customer_id,
        return_id=cmd.return_id,
        reason=cmd.reason,
        currency=invoice.currency,
        lines=lines,
        total_minor=total,
        issued_at=now,
    )
    refund = None
    if refund_minor:
        refund = Refund(
            id=new_id(),
            source_id=return_source(cmd.return_id),
            order_id=cmd.order_id,
            customer_id=draft.customer_id,
            amount_minor=refund_minor,
            currency=invoice.currency,
            reason=cmd.reason,
            refunded_at=now,
            credit_note_id=draft.id,
        )
    note = await _add_numbered(uow, ctx, draft, refund)
    ctx.reply(uow, _issued(cmd, note, refund))
    await uow.commit()
    ctx.metrics.credit_notes.inc()
    ctx.metrics.credited_minor.labels(note.currency).inc(note.total_minor)
    if refund is not None:
        _count_refund(ctx, refund, "return")


async def _add_numbered(
    uow: BillingUnitOfWork, ctx: RefundContext, draft: CreditNote, refund: Refund | None
) -> CreditNote:
    year = draft.issued_at.astimezone(ctx.books_timezone).year
    # The refund references the credit note (FK): insert the note first, then the refund. The
    # counter row is then held for one more statement only.
    seq, number = await uow.credit_notes.add_numbered(draft, year=year)
    if number != credit_note_number(year, seq):
        raise RuntimeError(f"database numbered credit note {seq} of {year} as {number!r}")
    if refund is not None and not await uow.credit_notes.add_refund(refund):
        raise errors.Conflict(f"refund {refund.source_id} exists without its credit note")
    return dataclasses.replace(draft, number=number)


async def refund_cancelled_order(
    cmd: pb.RefundCancelledOrderCommand, uow: BillingUnitOfWork, *, ctx: RefundContext
) -> None:
    """Refund a cancelled order's payment in full, once. The invoice was voided by the saga.

    A prepaid order's payment travels on another durable: if it has not arrived yet, this
    raises, and the consumer redelivers the command (with backoff) until it has. An order on
    account (amount 0) was paid in billing directly, if at all: whatever was paid and not yet
    refunded goes back, and nothing is recorded when nothing was paid.
    """
    problems: dict[str, str] = {}
    if not cmd.order_id:
        problems["order_id"] = "is required"
    if cmd.amount.amount_minor < 0:
        problems["amount.amount_minor"] = "must not be negative"
    if problems:
        raise errors.InvalidArgument("invalid RefundCancelledOrderCommand", problems)
    await uow.invoices.lock_order(cmd.order_id)
    source = cancellation_source(cmd.order_id)
    refund = await uow.credit_notes.refund_by_source(source)
    if refund is None:
        balance = await uow.credit_notes.balance(cmd.order_id)
        overpaid = (
            balance.paid_minor
            - balance.refunded_minor
            - (balance.invoiced_minor - balance.credited_minor)
        )
        if overpaid < cmd.amount.amount_minor:
            raise errors.FailedPrecondition(
                f"order {cmd.order_id}: {overpaid} paid beyond what is owed, "
                f"{cmd.amount.amount_minor} to refund; waiting for the payment or the void"
            )
        amount = cmd.amount.amount_minor or overpaid
        if amount <= 0:
            _log.info("cancelled order had nothing paid to refund", order_id=cmd.order_id)
            await uow.commit()
            return
        refund = Refund(
            id=new_id(),
            source_id=source,
            order_id=cmd.order_id,
            customer_id=cmd.customer_id,
            amount_minor=amount,
            currency=cmd.amount.currency,
            reason=cmd.reason or "order cancelled",
            refunded_at=ctx.clock(),
        )
        await uow.credit_notes.add_refund(refund)
        uow.after_commit(lambda: _count_refund(ctx, refund, "cancellation"))
    ctx.reply(
        uow, pb.PaymentRefunded(order_id=cmd.order_id, refund=convert.refund_to_proto(refund))
    )
    await uow.commit()


def _count_refund(ctx: RefundContext, refund: Refund, source: str) -> None:
    ctx.metrics.refunds.labels(source).inc()
    ctx.metrics.refunded_minor.labels(refund.currency).inc(refund.amount_minor)


def _issued(
    cmd: pb.IssueCreditNoteCommand, note: CreditNote, refund: Refund | None
) -> pb.CreditNoteIssued:
    message = pb.CreditNoteIssued(
        return_id=cmd.return_id,
        order_id=cmd.order_id,
        credit_note=convert.credit_note_to_proto(note),
    )
    if refund is not None:
        message.refund.CopyFrom(convert.refund_to_proto(refund))
    return message


# ------------------------------------------------------------------------------------ reads


async def get_credit_note(uow: BillingUnitOfWork, credit_note_id: str) -> CreditNote:
    note = await uow.credit_notes.get(credit_note_id)
    if note is None:
        raise errors.NotFound(f"credit note {credit_note_id} does not exist")
    return note


async def list_credit_notes(
    uow: BillingUnitOfWork, request: pb.ListCreditNotesRequest
) -> tuple[list[CreditNote], str]:
    if not request.order_id and not request.customer_id:
        raise errors.InvalidArgument(
            "a filter is required", {"order_id": "order_id or customer_id is required"}
        )
    if request.page_size < 0:
        raise errors.InvalidArgument("bad page size", {"page_size": "must not be negative"})
    size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    before = request.page_token or None
    if before is not None and not _is_uuid(before):
        raise errors.InvalidArgument("bad page token", {"page_token": "is not a token we issued"})
    notes = await uow.credit_notes.page(
        order_id=request.order_id, customer_id=request.customer_id, before_id=before, limit=size + 1
    )
    if len(notes) <= size:
        return notes, ""
    return notes[:size], notes[size - 1].id


async def list_refunds(uow: BillingUnitOfWork, order_id: str) -> list[Refund]:
    return await uow.credit_notes.refunds_of(order_id)


async def get_balance(uow: BillingUnitOfWork, order_id: str) -> Balance:
    if not order_id:
        raise errors.InvalidArgument("order is required", {"order_id": "is required"})
    return await uow.credit_notes.balance(order_id)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
