"""Order finance: the index sales reports and exports filtered by channel range over.

Reports by period use `orders_created`; by customer, `orders_customer_created` (both in 0001).

Revision ID: 0005_finance
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_finance"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
# Sales reports read the returns table (refunds).
depends_on: str | Sequence[str] | None = "0004_returns"


def upgrade() -> None:
    op.execute("CREATE INDEX orders_channel_created ON orders (channel, created_at DESC, id DESC)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS orders_channel_created")
