"""The admin audit trail: who did what to which target, with what outcome.

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
    op.execute(
        """
        CREATE TABLE audit_log (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            actor text NOT NULL,
            action text NOT NULL,
            target text NOT NULL,
            outcome text NOT NULL,
            at timestamptz NOT NULL,
            request_id text NOT NULL
        )
        """
    )
    # GET /v1/admin/audit?action=... pages newest first within one action.
    op.execute("CREATE INDEX audit_log_action ON audit_log (action, id DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE audit_log")
