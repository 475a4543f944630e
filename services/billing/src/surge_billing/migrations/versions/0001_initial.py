"""Billing: invoices with gapless yearly numbers, payments, credit limits; outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from surge_platform.migrations import create_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DDL: tuple[str, ...] = (
    # One row per year; bumped in the issuing transaction, so a rollback gives the number back.
    """
    CREATE TABLE invoice_counters (
        year integer PRIMARY KEY,
        last bigint NOT NULL CHECK (last >= 0)
    )
    """,
    """
    CREATE TABLE invoices (
        id uuid PRIMARY KEY,
        number text NOT NULL UNIQUE,
        year integer NOT NULL,
        seq bigint NOT NULL CHECK (seq > 0),
        saga_id text NOT NULL,
        order_id text NOT NULL,
        customer_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('ISSUED', 'PAID', 'VOID')),
        payment_terms text NOT NULL CHECK (payment_terms IN ('PREPAID', 'ON_ACCOUNT')),
        currency text NOT NULL,
        lines jsonb NOT NULL,
        subtotal_minor bigint NOT NULL,
        tax_minor bigint NOT NULL,
        discount_minor bigint NOT NULL,
        total_minor bigint NOT NULL CHECK (total_minor >= 0),
        issued_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        paid_at timestamptz,
        voided_at timestamptz,
        void_reason text NOT NULL DEFAULT '',
        UNIQUE (year, seq),
        CHECK (subtotal_minor + tax_minor = total_minor),
        CHECK ((status = 'VOID') = (voided_at IS NOT NULL)),
        CHECK ((status = 'PAID') = (paid_at IS NOT NULL))
    )
    """,
    # At most one live invoice per order; voided ones stay for the record.
    "CREATE UNIQUE INDEX invoices_one_live_per_order ON invoices (order_id) WHERE status <> 'VOID'",
    "CREATE INDEX invoices_by_order ON invoices (order_id, id)",
    "CREATE INDEX invoices_by_customer ON invoices (customer_id, id)",
    "CREATE INDEX invoices_by_status ON invoices (status, id)",
    # Used credit: the customer's issued, unpaid on-account invoices.
    "CREATE INDEX invoices_open_on_account ON invoices (customer_id) "
    "WHERE status = 'ISSUED' AND payment_terms = 'ON_ACCOUNT'",
    # A saga whose invoice step was compensated: a late IssueInvoice for it must not bill.
    """
    CREATE TABLE invoice_cancellations (
        order_id text NOT NULL,
        saga_id text NOT NULL,
        reason text NOT NULL,
        cancelled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (order_id, saga_id)
    )
    """,
    """
    CREATE TABLE payments (
        id uuid PRIMARY KEY,
        source_id text UNIQUE,
        order_id text NOT NULL,
        customer_id text NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency text NOT NULL,
        method text NOT NULL,
        reference text NOT NULL,
        received_at timestamptz NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX payments_reference_per_order ON payments (order_id, reference) "
    "WHERE reference <> ''",
    """
    CREATE TABLE credit_limits (
        customer_id text PRIMARY KEY,
        limit_minor bigint NOT NULL CHECK (limit_minor >= 0),
        currency text NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL
    )
    """,
    """
    CREATE TABLE credit_limit_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        customer_id text NOT NULL,
        old_limit_minor bigint,
        new_limit_minor bigint NOT NULL,
        currency text NOT NULL,
        actor text NOT NULL,
        changed_at timestamptz NOT NULL
    )
    """,
)


def upgrade() -> None:
    create_messaging_tables()
    for statement in DDL:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "credit_limit_changes",
        "credit_limits",
        "payments",
        "invoice_cancellations",
        "invoices",
        "invoice_counters",
        "inbox",
        "outbox",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
