"""Billing: credit notes with gapless yearly numbers, and refunds.

Revision ID: 0004_returns
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_returns"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DDL: tuple[str, ...] = (
    # Like invoice_counters: bumped in the issuing statement, so a rollback gives the number back.
    """
    CREATE TABLE credit_note_counters (
        year integer PRIMARY KEY,
        last bigint NOT NULL CHECK (last >= 0)
    )
    """,
    """
    CREATE TABLE credit_notes (
        id uuid PRIMARY KEY,
        number text NOT NULL UNIQUE,
        year integer NOT NULL,
        seq bigint NOT NULL CHECK (seq > 0),
        invoice_id uuid NOT NULL REFERENCES invoices (id),
        invoice_number text NOT NULL,
        order_id text NOT NULL,
        customer_id text NOT NULL,
        return_id text NOT NULL UNIQUE,
        reason text NOT NULL,
        currency text NOT NULL,
        lines jsonb NOT NULL,
        total_minor bigint NOT NULL CHECK (total_minor > 0),
        issued_at timestamptz NOT NULL,
        UNIQUE (year, seq)
    )
    """,
    "CREATE INDEX credit_notes_by_order ON credit_notes (order_id, id)",
    "CREATE INDEX credit_notes_by_customer ON credit_notes (customer_id, id)",
    "CREATE INDEX credit_notes_by_issued ON credit_notes (issued_at)",
    # `source_id` makes every refund idempotent: 'return:<return id>' or 'cancel:<order id>'.
    """
    CREATE TABLE refunds (
        id uuid PRIMARY KEY,
        source_id text NOT NULL UNIQUE,
        order_id text NOT NULL,
        customer_id text NOT NULL,
        credit_note_id uuid REFERENCES credit_notes (id),
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency text NOT NULL,
        reason text NOT NULL,
        refunded_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX refunds_by_order ON refunds (order_id, refunded_at)",
    "CREATE INDEX refunds_by_refunded ON refunds (refunded_at)",
)


def upgrade() -> None:
    for statement in DDL:
        op.execute(statement)


def downgrade() -> None:
    for table in ("refunds", "credit_notes", "credit_note_counters"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
