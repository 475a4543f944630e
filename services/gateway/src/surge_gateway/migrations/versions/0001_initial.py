"""Gateway tables: idempotency keys, API keys, intake log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            scope text NOT NULL,
            key text NOT NULL,
            fingerprint text NOT NULL,
            status smallint,
            headers jsonb,
            body bytea,
            locked_until timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, key)
        )
        """
    )
    op.execute("CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at)")
    op.execute(
        """
        CREATE TABLE api_keys (
            kind text NOT NULL CHECK (kind IN ('channel', 'carrier')),
            name text NOT NULL,
            key_hash text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            rotated_at timestamptz,
            PRIMARY KEY (kind, name)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE intake_log (
            channel text NOT NULL,
            identity text NOT NULL,
            phone_hash text NOT NULL,
            skus text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (channel, identity)
        )
        """
    )
    op.execute("CREATE INDEX intake_log_match ON intake_log (phone_hash, skus, received_at)")


def downgrade() -> None:
    op.execute("DROP TABLE intake_log")
    op.execute("DROP TABLE api_keys")
    op.execute("DROP TABLE idempotency_keys")
