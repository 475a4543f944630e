"""Billing finance: the order ledger (a projection of OrderStatusChanged) and the indexes the
reconciliation, aging and export queries range over.

Revision ID: 0005_finance
Revises: 0001 (depends on 0004_returns)
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_finance"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
# Reconciliation and aging net out credit notes and refunds (tables of the returns branch).
depends_on: str | Sequence[str] | None = "0004_returns"

DDL: tuple[str, ...] = (
    # Billing's own copy of what it needs to know about orders: what they cost and where they
    # are. `version` is the order's version, so a late or redelivered event never moves it back.
    """
    CREATE TABLE order_ledger (
        order_id text PRIMARY KEY,
        customer_id text NOT NULL,
        channel text NOT NULL,
        status text NOT NULL,
        total_minor bigint CHECK (total_minor >= 0),
        currency text,
        payment_terms text,
        placed_at timestamptz NOT NULL,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX order_ledger_placed ON order_ledger (placed_at)",
    "CREATE INDEX invoices_issued ON invoices (issued_at)",
    "CREATE INDEX payments_received ON payments (received_at)",
    "CREATE INDEX payments_by_order ON payments (order_id)",
)


def upgrade() -> None:
    for statement in DDL:
        op.execute(statement)


def downgrade() -> None:
    for index in ("payments_by_order", "payments_received", "invoices_issued"):
        op.execute(f"DROP INDEX IF EXISTS {index}")
    op.execute("DROP TABLE IF EXISTS order_ledger")
