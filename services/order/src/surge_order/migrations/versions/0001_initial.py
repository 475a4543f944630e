"""Order: orders, status history, sagas with their step log, payments, shipments; outbox, inbox.

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
    # Lines live in the order row (jsonb): every saga step needs them, and one row read per
    # message is what keeps the saga cheap. They are written once, when the order is placed.
    """
    CREATE TABLE orders (
        id uuid PRIMARY KEY,
        client_order_id text NOT NULL,
        channel text NOT NULL,
        external_id text,
        customer_id text NOT NULL,
        customer_name text NOT NULL,
        customer_phone text NOT NULL,
        province text NOT NULL,
        city text NOT NULL,
        district text NOT NULL,
        line1 text NOT NULL,
        postal_code text NOT NULL,
        lines jsonb NOT NULL,
        currency char(3) NOT NULL,
        subtotal_minor bigint NOT NULL CHECK (subtotal_minor >= 0),
        discount_minor bigint NOT NULL CHECK (discount_minor >= 0),
        total_minor bigint NOT NULL CHECK (total_minor >= 0),
        payment_terms text NOT NULL CHECK (payment_terms IN ('prepaid', 'on_account')),
        status text NOT NULL,
        cancel_reason text NOT NULL DEFAULT '',
        tags text[] NOT NULL DEFAULT '{}',
        coupon_code text NOT NULL DEFAULT '',
        paid boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version bigint NOT NULL DEFAULT 1,
        CONSTRAINT orders_client_order_id UNIQUE (channel, client_order_id)
    )
    """,
    "CREATE UNIQUE INDEX orders_external_id ON orders (channel, external_id) "
    "WHERE external_id IS NOT NULL",
    "CREATE INDEX orders_created ON orders (created_at DESC, id DESC)",
    "CREATE INDEX orders_customer_created ON orders (customer_id, created_at DESC, id DESC)",
    "CREATE INDEX orders_status_created ON orders (status, created_at DESC, id DESC)",
    """
    CREATE TABLE order_status_history (
        id bigserial PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id),
        from_status text,
        to_status text NOT NULL,
        reason text NOT NULL,
        at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX order_status_history_order ON order_status_history (order_id, id)",
    # One saga per order. `plan` holds the compensations still to run after the current one.
    """
    CREATE TABLE sagas (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL UNIQUE REFERENCES orders (id),
        state text NOT NULL,
        current_step text NOT NULL DEFAULT '',
        direction text NOT NULL DEFAULT '',
        step_log_id uuid,
        step_started_at timestamptz,
        step_deadline timestamptz,
        step_attempts integer NOT NULL DEFAULT 0,
        progress integer NOT NULL DEFAULT 0,
        plan text[] NOT NULL DEFAULT '{}',
        failure_reason text NOT NULL DEFAULT '',
        allocations jsonb NOT NULL DEFAULT '[]'::jsonb,
        started_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    )
    """,
    # What the sweeper scans: only live steps have a deadline.
    "CREATE INDEX sagas_due ON sagas (step_deadline) WHERE step_deadline IS NOT NULL",
    """
    CREATE TABLE saga_steps (
        id uuid PRIMARY KEY,
        saga_id uuid NOT NULL REFERENCES sagas (id),
        step text NOT NULL,
        direction text NOT NULL CHECK (direction IN ('forward', 'compensate')),
        status text NOT NULL CHECK (status IN ('started', 'succeeded', 'failed')),
        attempts integer NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        failure_reason text NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX saga_steps_saga ON saga_steps (saga_id, id)",
    """
    CREATE TABLE payments (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id),
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency char(3) NOT NULL,
        method text NOT NULL,
        reference text NOT NULL,
        received_at timestamptz NOT NULL,
        CONSTRAINT payments_reference UNIQUE (order_id, reference)
    )
    """,
    """
    CREATE TABLE order_shipments (
        shipment_id text PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id),
        warehouse text NOT NULL,
        dispatched_at timestamptz,
        delivered_at timestamptz
    )
    """,
    "CREATE INDEX order_shipments_order ON order_shipments (order_id)",
)


def upgrade() -> None:
    create_messaging_tables()
    for statement in DDL:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the first revision is not reversible")
