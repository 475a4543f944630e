"""Order rules (versioned, audited, with a rule-set version every replica polls), the review
queue, and the indexes the velocity and duplicate rules count with.

Revision ID: 0002_rules
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_rules"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, condition, action, params, priority, description): the shipped defaults, editable.
DEFAULT_RULES: tuple[tuple[str, str, str, dict[str, str], int, str], ...] = (
    (
        "very_high_value",
        "order.total_minor > 5000000",
        "require_review",
        {"tag": "very_high_value"},
        100,
        "Orders above CNY 50,000 wait for an operator",
    ),
    (
        "velocity",
        "recent.phone_orders_10m > 3 || recent.address_orders_10m > 3",
        "require_review",
        {"tag": "velocity"},
        90,
        "More than 3 orders to one phone or address within 10 minutes",
    ),
    (
        "possible_duplicate",
        # The gateway tags what its intake log saw; the count covers every other path.
        'recent.duplicates_5m > 0 || "possible_duplicate" in order.tags',
        "require_review",
        {"tag": "possible_duplicate"},
        80,
        "Same phone and same SKUs as another order within 5 minutes, from any channel",
    ),
    (
        "address_check",
        "!address.complete || !customer.phone_valid",
        "require_review",
        {"tag": "address_check"},
        70,
        "Incomplete address or not a mainland mobile number",
    ),
    (
        "high_value",
        "order.total_minor > 500000",
        "notify",
        {"tag": "high_value"},
        50,
        "Orders above CNY 5,000 are tagged and operators notified",
    ),
    (
        "vip_priority",
        "customer.vip",
        "tag",
        {"tag": "priority"},
        40,
        "VIP customers (orders tagged vip) are served first",
    ),
)

DDL: tuple[str, ...] = (
    """
    CREATE TABLE rules (
        name text PRIMARY KEY,
        condition text NOT NULL,
        action text NOT NULL,
        params jsonb NOT NULL DEFAULT '{}'::jsonb,
        priority integer NOT NULL,
        enabled boolean NOT NULL,
        description text NOT NULL DEFAULT '',
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL
    )
    """,
    """
    CREATE TABLE rule_versions (
        name text NOT NULL REFERENCES rules (name),
        version bigint NOT NULL,
        condition text NOT NULL,
        action text NOT NULL,
        params jsonb NOT NULL,
        priority integer NOT NULL,
        enabled boolean NOT NULL,
        description text NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        PRIMARY KEY (name, version)
    )
    """,
    """
    CREATE TABLE rule_audit (
        id bigserial PRIMARY KEY,
        name text NOT NULL REFERENCES rules (name),
        version bigint NOT NULL,
        change text NOT NULL,
        actor text NOT NULL,
        at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX rule_audit_name ON rule_audit (name, id)",
    # One row: bumped by every rule change; each replica polls it and recompiles on a change.
    """
    CREATE TABLE rule_set (
        id integer PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL
    )
    """,
    "INSERT INTO rule_set (id, version) VALUES (1, 1)",
    """
    CREATE TABLE order_reviews (
        order_id uuid PRIMARY KEY REFERENCES orders (id),
        reasons text[] NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        held_at timestamptz NOT NULL,
        escalated_at timestamptz,
        decided_at timestamptz,
        decided_by text NOT NULL DEFAULT '',
        note text NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX order_reviews_queue ON order_reviews (status, held_at, order_id)",
    # What the escalation timer scans: pending and not yet escalated.
    "CREATE INDEX order_reviews_unescalated ON order_reviews (held_at) "
    "WHERE status = 'pending' AND escalated_at IS NULL",
    # The velocity and duplicate rules count recent orders per phone and per address.
    "CREATE INDEX orders_phone_created ON orders (customer_phone, created_at)",
    "CREATE INDEX orders_address_created ON orders (province, city, district, line1, created_at)",
)


def upgrade() -> None:
    for statement in DDL:
        op.execute(statement)
    insert_rule = sa.text(
        "INSERT INTO rules (name, condition, action, params, priority, enabled, description, "
        "version, updated_at, updated_by) VALUES (:name, :condition, :action, "
        "CAST(:params AS jsonb), :priority, true, :description, 1, now(), 'migration')"
    )
    insert_version = sa.text(
        "INSERT INTO rule_versions (name, version, condition, action, params, priority, enabled, "
        "description, created_at, created_by) VALUES (:name, 1, :condition, :action, "
        "CAST(:params AS jsonb), :priority, true, :description, now(), 'migration')"
    )
    insert_audit = sa.text(
        "INSERT INTO rule_audit (name, version, change, actor, at) "
        "VALUES (:name, 1, 'created', 'migration', now())"
    )
    bind = op.get_bind()
    for name, condition, action, params, priority, description in DEFAULT_RULES:
        values = {
            "name": name,
            "condition": condition,
            "action": action,
            "params": json.dumps(params),
            "priority": priority,
            "description": description,
        }
        bind.execute(insert_rule, values)
        bind.execute(insert_version, values)
        bind.execute(insert_audit, {"name": name})


def downgrade() -> None:
    for index in ("orders_address_created", "orders_phone_created"):
        op.execute(f"DROP INDEX IF EXISTS {index}")
    for table in ("order_reviews", "rule_set", "rule_audit", "rule_versions", "rules"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
