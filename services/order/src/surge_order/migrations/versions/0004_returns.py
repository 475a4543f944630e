"""Order: returns (RMA) with their saga state and step log.

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
    # A return and its saga in one row (like orders + sagas, but a return has one saga only).
    # `lines`: [{sku, quantity, amount_minor, resellable, damaged}]; `restock`: [{sku,
    # warehouse, quantity}] planned on receipt.
    """
    CREATE TABLE returns (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id),
        customer_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('return', 'refund_only')),
        state text NOT NULL CHECK (state IN
            ('requested', 'approved', 'rejected', 'received', 'refunded', 'failed')),
        reason text NOT NULL,
        note text NOT NULL DEFAULT '',
        currency text NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
        lines jsonb NOT NULL,
        restock jsonb NOT NULL DEFAULT '[]'::jsonb,
        requested_by text NOT NULL,
        decided_by text NOT NULL DEFAULT '',
        step text NOT NULL DEFAULT '',
        step_deadline timestamptz,
        step_attempts integer NOT NULL DEFAULT 0,
        failure_reason text NOT NULL DEFAULT '',
        credit_note_id text NOT NULL DEFAULT '',
        credit_note_number text NOT NULL DEFAULT '',
        requested_at timestamptz NOT NULL,
        decided_at timestamptz,
        received_at timestamptz,
        refunded_at timestamptz,
        escalated_at timestamptz,
        updated_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX returns_by_order ON returns (order_id, requested_at)",
    # The sweeper's two scans: steps past their deadline, and open requests not yet escalated.
    "CREATE INDEX returns_due ON returns (step_deadline) WHERE step_deadline IS NOT NULL",
    "CREATE INDEX returns_unescalated ON returns (requested_at) "
    "WHERE escalated_at IS NULL AND state IN ('requested', 'approved')",
    """
    CREATE TABLE return_steps (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        return_id uuid NOT NULL REFERENCES returns (id),
        step text NOT NULL,
        event text NOT NULL,
        at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX return_steps_by_return ON return_steps (return_id, id)",
)


def upgrade() -> None:
    for statement in DDL:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS return_steps")
    op.execute("DROP TABLE IF EXISTS returns")
