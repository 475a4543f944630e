"""The intake log's duplicate check in one round trip: a function that locks, matches, inserts.

Revision ID: 0007_perf
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_perf"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The lock serialises intake per phone so two simultaneous duplicates cannot miss each
    # other. The match must read a snapshot taken after the lock is granted, which is why it
    # was a statement of its own (BEGIN, lock, match + insert, COMMIT: four round trips). A
    # VOLATILE PL/pgSQL function takes a fresh snapshot for each statement it runs, so one
    # call keeps that order; the lock is held until the caller's (implicit) commit, which
    # makes the row visible before the next intake of the phone gets the lock.
    op.execute(
        """
        CREATE FUNCTION intake_record(
            p_channel text, p_identity text, p_phone text, p_skus text, p_window interval
        ) RETURNS boolean
        LANGUAGE plpgsql VOLATILE
        AS $$
        DECLARE
            duplicate boolean;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext(p_phone));
            SELECT EXISTS (
                SELECT 1 FROM intake_log
                WHERE phone_hash = p_phone AND skus = p_skus
                  AND received_at BETWEEN now() - p_window AND now() + p_window
                  AND NOT (channel = p_channel AND identity = p_identity)
            ) INTO duplicate;
            INSERT INTO intake_log (channel, identity, phone_hash, skus)
            VALUES (p_channel, p_identity, p_phone, p_skus)
            ON CONFLICT (channel, identity) DO NOTHING;
            RETURN duplicate;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION intake_record(text, text, text, text, interval)")
