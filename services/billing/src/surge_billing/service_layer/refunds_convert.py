"""Credit notes, refunds and balances as protobuf messages."""

from __future__ import annotations

from surge.billing.v1 import credit_notes_pb2 as pb

from surge_billing.domain.credit_notes import Balance, CreditNote, Refund
from surge_billing.service_layer.convert import money, timestamp

__all__ = ["balance_to_proto", "credit_note_to_proto", "refund_to_proto"]


def credit_note_to_proto(note: CreditNote) -> pb.CreditNote:
    c = note.currency
    return pb.CreditNote(
        id=note.id,
        number=note.number,
        invoice_id=note.invoice_id,
        invoice_number=note.invoice_number,
        order_id=note.order_id,
        customer_id=note.customer_id,
        return_id=note.return_id,
        reason=note.reason,
        lines=[
            pb.CreditNoteLine(
                sku=line.sku, quantity=line.quantity, amount=money(line.amount_minor, c)
            )
            for line in note.lines
        ],
        total=money(note.total_minor, c),
        issued_at=timestamp(note.issued_at),
    )


def refund_to_proto(refund: Refund) -> pb.Refund:
    return pb.Refund(
        id=refund.id,
        order_id=refund.order_id,
        customer_id=refund.customer_id,
        source_id=refund.source_id,
        credit_note_id=refund.credit_note_id or "",
        amount=money(refund.amount_minor, refund.currency),
        reason=refund.reason,
        refunded_at=timestamp(refund.refunded_at),
    )


def balance_to_proto(balance: Balance) -> pb.OrderBalance:
    c = balance.currency
    return pb.OrderBalance(
        order_id=balance.order_id,
        invoiced=money(balance.invoiced_minor, c),
        credited=money(balance.credited_minor, c),
        paid=money(balance.paid_minor, c),
        refunded=money(balance.refunded_minor, c),
        balance=money(balance.balance_minor, c),
    )
