"""Pydantic models of returns, credit notes and balances at the edge, and their conversion from
the protobuf replies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from surge.billing.v1 import credit_notes_pb2
from surge.order.v1 import returns_pb2

from surge_gateway.convert import enum_name, money, timestamp
from surge_gateway.schemas import PRINTABLE, Money, Sku

__all__ = [
    "BalancePublic",
    "CreditNotePublic",
    "ReturnCreate",
    "ReturnDecision",
    "ReturnList",
    "ReturnPublic",
    "ReturnReceipt",
    "balance_public",
    "credit_note_public",
    "return_public",
]

Note = Annotated[str, Field(min_length=1, max_length=500, pattern=PRINTABLE)]
Units = Annotated[int, Field(ge=0, le=10_000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReturnLineIn(_In):
    sku: Sku
    quantity: int = Field(ge=1, le=10_000)


class ReturnCreate(_In):
    kind: Literal["return", "refund_only"] = Field(
        default="return", description="refund_only: no goods come back (missing or undelivered)"
    )
    reason: Note
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=100)


class ReturnDecision(_In):
    note: Annotated[str, Field(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


class ReceivedLineIn(_In):
    sku: Sku
    resellable_quantity: Units
    damaged_quantity: Units


class ReturnReceipt(_In):
    lines: list[ReceivedLineIn] = Field(min_length=1, max_length=100)


class ReturnLinePublic(BaseModel):
    sku: str
    quantity: int
    resellable_quantity: int
    damaged_quantity: int
    amount: Money


class ReturnPublic(BaseModel):
    id: str
    order_id: str
    customer_id: str
    kind: str | None
    state: str | None
    reason: str
    lines: list[ReturnLinePublic]
    amount: Money
    note: str
    step: str | None
    credit_note_id: str | None
    credit_note_number: str | None
    failure_reason: str | None
    requested_at: datetime | None
    decided_at: datetime | None
    received_at: datetime | None
    refunded_at: datetime | None
    escalated_at: datetime | None
    links: dict[str, str]


class ReturnList(BaseModel):
    items: list[ReturnPublic]


class CreditNoteLinePublic(BaseModel):
    sku: str
    quantity: int
    amount: Money


class CreditNotePublic(BaseModel):
    id: str
    number: str
    invoice_id: str
    invoice_number: str
    order_id: str
    customer_id: str
    return_id: str
    reason: str
    lines: list[CreditNoteLinePublic]
    total: Money
    issued_at: datetime | None


class BalancePublic(BaseModel):
    """balance = invoiced - credited - paid + refunded (what the customer still owes)."""

    order_id: str
    invoiced: Money
    credited: Money
    paid: Money
    refunded: Money
    balance: Money


def _opt(value: str) -> str | None:
    return value or None


def return_public(r: returns_pb2.OrderReturn) -> ReturnPublic:
    return ReturnPublic(
        id=r.id,
        order_id=r.order_id,
        customer_id=r.customer_id,
        kind=enum_name(returns_pb2.ReturnKind, r.kind, "RETURN_KIND_"),
        state=enum_name(returns_pb2.ReturnState, r.state, "RETURN_STATE_"),
        reason=r.reason,
        lines=[
            ReturnLinePublic(
                sku=ln.sku,
                quantity=ln.quantity,
                resellable_quantity=ln.resellable_quantity,
                damaged_quantity=ln.damaged_quantity,
                amount=money(ln.amount),
            )
            for ln in r.lines
        ],
        amount=money(r.amount),
        note=r.note,
        step=_opt(r.step),
        credit_note_id=_opt(r.credit_note_id),
        credit_note_number=_opt(r.credit_note_number),
        failure_reason=_opt(r.failure_reason),
        requested_at=timestamp(r.requested_at),
        decided_at=timestamp(r.decided_at),
        received_at=timestamp(r.received_at),
        refunded_at=timestamp(r.refunded_at),
        escalated_at=timestamp(r.escalated_at),
        links={"self": f"/v1/returns/{r.id}", "order": f"/v1/orders/{r.order_id}"},
    )


def credit_note_public(c: credit_notes_pb2.CreditNote) -> CreditNotePublic:
    return CreditNotePublic(
        id=c.id,
        number=c.number,
        invoice_id=c.invoice_id,
        invoice_number=c.invoice_number,
        order_id=c.order_id,
        customer_id=c.customer_id,
        return_id=c.return_id,
        reason=c.reason,
        lines=[
            CreditNoteLinePublic(sku=ln.sku, quantity=ln.quantity, amount=money(ln.amount))
            for ln in c.lines
        ],
        total=money(c.total),
        issued_at=timestamp(c.issued_at),
    )


def balance_public(b: credit_notes_pb2.OrderBalance) -> BalancePublic:
    return BalancePublic(
        order_id=b.order_id,
        invoiced=money(b.invoiced),
        credited=money(b.credited),
        paid=money(b.paid),
        refunded=money(b.refunded),
        balance=money(b.balance),
    )
