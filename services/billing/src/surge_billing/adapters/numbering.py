"""Invoice numbers for a group commit, taken a block at a time, and its invoices written at once.

Outside a group commit, `InvoiceRepository.add_numbered` takes the year's next number and inserts
the invoice in one statement. In a group commit whose chunk `chunk.lock_chunk` and `ChunkReader`
prepared (so it knows how many IssueInvoice commands the chunk holds), the first invoice of a
year takes a block of that many numbers with one upsert of the year's counter row instead, and
`InvoiceWrites` inserts the batch's invoices with one statement before it commits.

Still gapless: the counter row stays locked by the batch from the block's upsert until commit;
numbers are handed out in order from the start of the block; before commit, the numbers left
over (commands rejected, or answered again) are given back by lowering the counter (it is still
the block's end: nobody else can have moved it). A rollback gives the whole block back. Every
number of such a batch comes from its block (never mixed with single takes), so the block end
is the only thing the counter can hold. Every statement that reads invoices in the transaction
first sends the pending ones (`InvoiceRepository` and `CreditRepository` do).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.db import raw_execute, raw_fetchrow

from surge_billing.domain.invoices import Invoice, PricedLine, invoice_number

__all__ = ["InvoiceReader", "InvoiceRow", "InvoiceWrites", "NumberingError", "lines_json"]

_TAKE_BLOCK = text(
    "INSERT INTO invoice_counters AS c (year, last) VALUES (:year, :count) "
    "ON CONFLICT (year) DO UPDATE SET last = c.last + :count RETURNING c.last"
)
_GIVE_BACK = text(
    "UPDATE invoice_counters SET last = last - :unused WHERE year = :year AND last = :end "
    "RETURNING last"
)
_INSERT_MANY = text(
    """
    INSERT INTO invoices (id, number, saga_id, order_id, customer_id, status, payment_terms,
                          currency, lines, subtotal_minor, tax_minor, discount_minor, total_minor,
                          issued_at, due_at, paid_at, voided_at, void_reason, year, seq)
    SELECT CAST(id AS uuid), number, saga_id, order_id, customer_id, status, payment_terms,
           currency, CAST(lines AS jsonb), subtotal_minor, tax_minor, discount_minor,
           total_minor, issued_at, due_at, paid_at, voided_at, void_reason, year, seq
    FROM unnest(CAST(:id AS text[]), CAST(:number AS text[]), CAST(:saga_id AS text[]),
                CAST(:order_id AS text[]), CAST(:customer_id AS text[]), CAST(:status AS text[]),
                CAST(:payment_terms AS text[]), CAST(:currency AS text[]),
                CAST(:lines AS text[]), CAST(:subtotal_minor AS bigint[]),
                CAST(:tax_minor AS bigint[]), CAST(:discount_minor AS bigint[]),
                CAST(:total_minor AS bigint[]), CAST(:issued_at AS timestamptz[]),
                CAST(:due_at AS timestamptz[]), CAST(:paid_at AS timestamptz[]),
                CAST(:voided_at AS timestamptz[]), CAST(:void_reason AS text[]),
                CAST(:year AS integer[]), CAST(:seq AS bigint[]))
         AS v(id, number, saga_id, order_id, customer_id, status, payment_terms, currency,
              lines, subtotal_minor, tax_minor, discount_minor, total_minor, issued_at, due_at,
              paid_at, voided_at, void_reason, year, seq)
    """
)


class NumberingError(RuntimeError):
    """A batch wanted more numbers than its chunk announced: it rolls back and is replayed
    message by message (where each invoice takes its own number)."""


@dataclass(frozen=True)
class InvoiceRow:
    """An invoice as its row is written (lines already as JSON)."""

    id: str
    number: str
    saga_id: str
    order_id: str
    customer_id: str
    status: str
    payment_terms: str
    currency: str
    lines: str
    subtotal_minor: int
    tax_minor: int
    discount_minor: int
    total_minor: int
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None
    voided_at: datetime | None
    void_reason: str
    year: int
    seq: int


@dataclass
class _Block:
    next: int
    end: int


class InvoiceWrites:
    """One transaction's number blocks (one per year) and invoices not yet inserted."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._blocks: dict[int, _Block] = {}
        self._pending: list[InvoiceRow] = []

    async def take(self, year: int, block_size: int) -> int:
        """The year's next number of this transaction's block (taken first with `block_size`
        numbers)."""
        block = self._blocks.get(year)
        if block is None:
            if block_size < 1:
                raise NumberingError("no invoice numbers were announced for this batch")
            row = await raw_fetchrow(
                self._connection, _TAKE_BLOCK, {"year": year, "count": block_size}
            )
            assert row is not None  # an upsert … RETURNING always returns its row
            end = int(row[0])
            block = self._blocks[year] = _Block(next=end - block_size + 1, end=end)
        if block.next > block.end:
            raise NumberingError(f"the batch's block of {year} invoice numbers is used up")
        seq = block.next
        block.next += 1
        return seq

    async def add(self, invoice: Invoice, year: int, block_size: int) -> tuple[int, str]:
        """Number `invoice` from the year's block and keep it for the next insert; returns
        (sequence, number). `invoice.number` is ignored."""
        seq = await self.take(year, block_size)
        number = invoice_number(year, seq)
        self._pending.append(
            InvoiceRow(
                id=invoice.id,
                number=number,
                saga_id=invoice.saga_id,
                order_id=invoice.order_id,
                customer_id=invoice.customer_id,
                status=invoice.status.value,
                payment_terms=invoice.payment_terms.value,
                currency=invoice.currency,
                lines=lines_json(invoice),
                subtotal_minor=invoice.subtotal_minor,
                tax_minor=invoice.tax_minor,
                discount_minor=invoice.discount_minor,
                total_minor=invoice.total_minor,
                issued_at=invoice.issued_at,
                due_at=invoice.due_at,
                paid_at=invoice.paid_at,
                voided_at=invoice.voided_at,
                void_reason=invoice.void_reason,
                year=year,
                seq=seq,
            )
        )
        return seq, number

    async def settle(self) -> None:
        """Insert the pending invoices now (before a statement that reads invoices)."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        fields = InvoiceRow.__dataclass_fields__
        await raw_execute(
            self._connection,
            _INSERT_MANY,
            {name: [getattr(row, name) for row in rows] for name in fields},
        )

    async def flush(self) -> None:
        await self.settle()
        blocks, self._blocks = self._blocks, {}
        for year, block in sorted(blocks.items()):
            unused = block.end - block.next + 1
            if unused == 0:
                continue
            row = await raw_fetchrow(
                self._connection, _GIVE_BACK, {"year": year, "unused": unused, "end": block.end}
            )
            if row is None:
                raise NumberingError(f"the {year} invoice counter moved under a locked block")


def lines_json(invoice: Invoice) -> str:
    """The invoice's lines as the `lines` jsonb column holds them."""
    return json.dumps([_line_json(line) for line in invoice.lines])


def _line_json(line: PricedLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price_minor,
        "discount_minor": line.discount_minor,
        "tax_minor": line.tax_minor,
        "amount_minor": line.amount_minor,
    }


class InvoiceReader:
    """Base of the repositories that read invoices: `writes` is the unit of work's
    `deferred(InvoiceWrites)` in a group commit, and `_settle()` sends its pending invoices
    before any read, so a read never misses an invoice of its own batch."""

    def __init__(
        self,
        connection: AsyncConnection,
        writes: Callable[[], InvoiceWrites] | None = None,
    ) -> None:
        self._connection = connection
        self._writes = writes

    async def _settle(self) -> None:
        if self._writes is not None:
            await self._writes().settle()
