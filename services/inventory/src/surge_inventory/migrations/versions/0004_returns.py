"""Inventory: restocks of customer returns, one per return (idempotency and audit).

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


def upgrade() -> None:
    # The stock change itself is audited in stock_movements (ref = return id); this row makes a
    # resent RestockReturn or ReverseRestock harmless.
    op.execute(
        """
        CREATE TABLE return_restocks (
            return_id text PRIMARY KEY,
            order_id text NOT NULL,
            lines jsonb NOT NULL,
            status text NOT NULL CHECK (status IN ('restocked', 'reversed')),
            shortfall jsonb NOT NULL DEFAULT '[]'::jsonb,
            restocked_at timestamptz NOT NULL DEFAULT now(),
            reversed_at timestamptz
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS return_restocks")
