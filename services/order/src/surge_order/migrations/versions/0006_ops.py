"""A partial index so the saga gauges (in flight, parked) count only live sagas.

Revision ID: 0006_ops
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_ops"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Finished sagas pile up by the million; the gauges query every few seconds must not scan them.
    op.execute(
        "CREATE INDEX sagas_live ON sagas (state) "
        "WHERE state IN ('running', 'compensating', 'compensation_failed')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX sagas_live")
