"""Shipments, their audit log, carrier rules and tracking sequences; outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op
from surge_platform.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# (code, name, tracking prefix): a tracking number is the prefix + 12 digits from a sequence.
CARRIERS = (
    ("SF", "SF Express", "SF"),
    ("ZTO", "ZTO Express", "ZTO"),
    ("EMS", "China Post EMS", "EMS"),
    ("DEBANG", "Deppon Logistics", "DPK"),
)

# (priority, region, min grams, max grams, carrier): first match by priority wins.
RULES = (
    (10, "*", 20_001, None, "DEBANG"),
    (20, "Xinjiang", 0, None, "EMS"),
    (20, "Xizang", 0, None, "EMS"),
    (20, "Tibet", 0, None, "EMS"),
    (20, "Qinghai", 0, None, "EMS"),
    (20, "Ningxia", 0, None, "EMS"),
    (30, "=origin", 0, None, "ZTO"),
    (1000, "*", 0, None, "SF"),
)

# Province each shipping warehouse is in (for the "=origin" rule); matches inventory's codes.
WAREHOUSES = (
    ("HZ-01", "Zhejiang"),
    ("SH-01", "Shanghai"),
    ("BJ-01", "Beijing"),
    ("GZ-01", "Guangdong"),
    ("CD-01", "Sichuan"),
)


def _text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def upgrade() -> None:
    create_messaging_tables()
    op.execute(
        """
        CREATE TABLE carriers (
            code text PRIMARY KEY,
            name text NOT NULL,
            tracking_prefix text NOT NULL UNIQUE,
            tracking_sequence text NOT NULL UNIQUE
        )
        """
    )
    for code, name, prefix in CARRIERS:
        sequence = f"tracking_seq_{code.lower()}"
        op.execute(f"CREATE SEQUENCE {sequence} MINVALUE 1 MAXVALUE 999999999999 NO CYCLE")
        op.execute(
            "INSERT INTO carriers (code, name, tracking_prefix, tracking_sequence) VALUES "
            f"({_text(code)}, {_text(name)}, {_text(prefix)}, {_text(sequence)})"
        )
    op.execute(
        """
        CREATE TABLE carrier_rules (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            priority integer NOT NULL,
            region text NOT NULL,
            min_weight_grams integer NOT NULL DEFAULT 0 CHECK (min_weight_grams >= 0),
            max_weight_grams integer CHECK (max_weight_grams >= min_weight_grams),
            carrier text NOT NULL REFERENCES carriers (code)
        )
        """
    )
    for priority, region, low, high, carrier in RULES:
        op.execute(
            "INSERT INTO carrier_rules "
            "(priority, region, min_weight_grams, max_weight_grams, carrier) VALUES "
            f"({priority}, {_text(region)}, {low}, {'NULL' if high is None else high}, "
            f"{_text(carrier)})"
        )
    op.execute("CREATE TABLE warehouses (code text PRIMARY KEY, region text NOT NULL)")
    for code, region in WAREHOUSES:
        op.execute(f"INSERT INTO warehouses (code, region) VALUES ({_text(code)}, {_text(region)})")
    op.execute(
        """
        CREATE TABLE fulfillment_orders (
            order_id text PRIMARY KEY,
            saga_id text NOT NULL,
            status text NOT NULL CHECK (status IN ('created', 'rejected', 'cancelled')),
            reason text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE shipments (
            id uuid PRIMARY KEY,
            order_id text NOT NULL REFERENCES fulfillment_orders (order_id),
            warehouse text NOT NULL,
            carrier text NOT NULL REFERENCES carriers (code),
            tracking_number text NOT NULL UNIQUE,
            status text NOT NULL CHECK (status IN
                ('created', 'picked', 'packed', 'dispatched', 'delivered', 'cancelled')),
            lines jsonb NOT NULL,
            weight_grams integer NOT NULL CHECK (weight_grams >= 0),
            address jsonb NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            dispatched_at timestamptz,
            delivered_at timestamptz,
            UNIQUE (order_id, warehouse)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE shipment_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            shipment_id uuid NOT NULL REFERENCES shipments (id),
            from_status text,
            to_status text NOT NULL,
            actor text NOT NULL,
            reason text NOT NULL DEFAULT '',
            at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id, id)")


def downgrade() -> None:
    for table in (
        "shipment_events",
        "shipments",
        "fulfillment_orders",
        "warehouses",
        "carrier_rules",
        "carriers",
        "inbox",
        "outbox",
    ):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION outbox_notify()")
    for code, _, _ in CARRIERS:
        op.execute(f"DROP SEQUENCE tracking_seq_{code.lower()}")
