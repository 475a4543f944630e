"""Catalog, warehouses, stock, reservations and the stock audit log.

Revision ID: 0001
Revises:
"""

from alembic import op
from surge_platform.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    """
    CREATE TABLE warehouses (
        code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,64}$'),
        name text NOT NULL,
        region text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX warehouses_region ON warehouses (region)",
    """
    CREATE TABLE skus (
        sku text PRIMARY KEY CHECK (sku ~ '^[A-Za-z0-9_-]{1,64}$'),
        name text NOT NULL,
        unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        weight_grams integer NOT NULL CHECK (weight_grams > 0),
        category text NOT NULL,
        active boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE stock (
        sku text NOT NULL REFERENCES skus (sku),
        warehouse text NOT NULL REFERENCES warehouses (code),
        on_hand integer NOT NULL,
        reserved integer NOT NULL DEFAULT 0,
        available integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sku, warehouse),
        CONSTRAINT stock_available_not_negative CHECK (available >= 0),
        CONSTRAINT stock_reserved_not_negative CHECK (reserved >= 0),
        CONSTRAINT stock_balanced CHECK (on_hand = available + reserved)
    )
    """,
    """
    CREATE TABLE reservations (
        id uuid PRIMARY KEY,
        order_id text NOT NULL UNIQUE,
        saga_id text NOT NULL,
        status text NOT NULL CHECK (status IN
            ('held', 'committed', 'confirmed', 'released', 'expired', 'rejected')),
        region text NOT NULL DEFAULT '',
        allocations jsonb NOT NULL DEFAULT '[]'::jsonb,
        confirmed jsonb NOT NULL DEFAULT '{}'::jsonb,
        reject_reason text NOT NULL DEFAULT '',
        unavailable_skus text[] NOT NULL DEFAULT '{}',
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX reservations_held_expiry ON reservations (expires_at) WHERE status = 'held'",
    """
    CREATE TABLE stock_movements (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sku text NOT NULL,
        warehouse text NOT NULL,
        delta_on_hand integer NOT NULL,
        delta_reserved integer NOT NULL,
        reason text NOT NULL,
        ref text NOT NULL DEFAULT '',
        actor text NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX stock_movements_sku ON stock_movements (sku, warehouse, at)",
    "CREATE INDEX stock_movements_ref ON stock_movements (ref) WHERE ref <> ''",
)


def upgrade() -> None:
    create_messaging_tables()
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in ("stock_movements", "reservations", "stock", "skus", "warehouses", "inbox"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TABLE outbox")
    op.execute("DROP FUNCTION outbox_notify()")
