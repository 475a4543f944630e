"""Pricing: promotions and coupons with their redemptions, customer tiers, member prices,
per-customer purchase limits with their counters, and each order's per-line price breakdown.

Revision ID: 0003_pricing
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_pricing"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DDL: tuple[str, ...] = (
    # One shape for every kind; `code` is NULL for automatic promotions (threshold, gift).
    # `used` is the coupon's redemption count: the conditional UPDATE on it is what makes
    # redemption exactly-once, and the CHECK is the last line of defence.
    """
    CREATE TABLE promotions (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        kind text NOT NULL
            CHECK (kind IN ('percent_coupon', 'fixed_coupon', 'threshold', 'gift')),
        active boolean NOT NULL DEFAULT true,
        starts_at timestamptz,
        ends_at timestamptz,
        code text UNIQUE,
        percent integer NOT NULL DEFAULT 0 CHECK (percent BETWEEN 0 AND 100),
        amount_minor bigint NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
        min_spend_minor bigint NOT NULL DEFAULT 0 CHECK (min_spend_minor >= 0),
        threshold_minor bigint NOT NULL DEFAULT 0 CHECK (threshold_minor >= 0),
        repeat boolean NOT NULL DEFAULT false,
        usage_limit integer NOT NULL DEFAULT 0 CHECK (usage_limit >= 0),
        per_customer_limit integer NOT NULL DEFAULT 0 CHECK (per_customer_limit >= 0),
        used integer NOT NULL DEFAULT 0
            CHECK (used >= 0 AND (usage_limit = 0 OR used <= usage_limit)),
        buy_sku text NOT NULL DEFAULT '',
        buy_quantity integer NOT NULL DEFAULT 0 CHECK (buy_quantity >= 0),
        gift_sku text NOT NULL DEFAULT '',
        gift_quantity integer NOT NULL DEFAULT 0 CHECK (gift_quantity >= 0),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT promotions_window CHECK (ends_at IS NULL OR starts_at IS NULL
            OR ends_at > starts_at)
    )
    """,
    "CREATE INDEX promotions_automatic ON promotions (kind) WHERE active AND code IS NULL",
    "CREATE INDEX promotions_created ON promotions (created_at DESC, id DESC)",
    # One row per order that redeemed a coupon; `returned_at` set when the order is cancelled.
    """
    CREATE TABLE coupon_redemptions (
        order_id uuid PRIMARY KEY REFERENCES orders (id),
        promotion_id uuid NOT NULL REFERENCES promotions (id),
        customer_id text NOT NULL,
        redeemed_at timestamptz NOT NULL,
        returned_at timestamptz
    )
    """,
    "CREATE INDEX coupon_redemptions_customer ON coupon_redemptions (promotion_id, customer_id) "
    "WHERE returned_at IS NULL",
    """
    CREATE TABLE customer_tiers (
        customer_id text PRIMARY KEY,
        tier text NOT NULL,
        updated_at timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE member_prices (
        tier text NOT NULL,
        sku text NOT NULL,
        unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tier, sku)
    )
    """,
    """
    CREATE TABLE purchase_limits (
        sku text PRIMARY KEY,
        max_quantity integer NOT NULL CHECK (max_quantity > 0),
        updated_at timestamptz NOT NULL
    )
    """,
    # Units of a limited SKU each customer holds in orders not cancelled; the conditional upsert
    # on it enforces the limit under concurrency. `purchase_limit_usage` remembers what each
    # order took, so a cancellation gives back exactly that, once.
    """
    CREATE TABLE purchase_counters (
        customer_id text NOT NULL,
        sku text NOT NULL,
        quantity integer NOT NULL CHECK (quantity >= 0),
        PRIMARY KEY (customer_id, sku)
    )
    """,
    """
    CREATE TABLE purchase_limit_usage (
        order_id uuid NOT NULL REFERENCES orders (id),
        sku text NOT NULL,
        customer_id text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (order_id, sku)
    )
    """,
    # The breakdown of orders with any discount; an order without one is its lines as stored.
    """
    CREATE TABLE order_line_pricing (
        order_id uuid NOT NULL REFERENCES orders (id),
        line_no integer NOT NULL,
        sku text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        gift_quantity integer NOT NULL CHECK (gift_quantity >= 0),
        list_unit_price_minor bigint NOT NULL CHECK (list_unit_price_minor >= 0),
        list_amount_minor bigint NOT NULL,
        discount_minor bigint NOT NULL CHECK (discount_minor >= 0),
        final_minor bigint NOT NULL CHECK (final_minor >= 0),
        adjustments jsonb NOT NULL,
        PRIMARY KEY (order_id, line_no),
        CHECK (list_amount_minor = discount_minor + final_minor)
    )
    """,
)

TABLES = (
    "order_line_pricing",
    "purchase_limit_usage",
    "purchase_counters",
    "purchase_limits",
    "member_prices",
    "customer_tiers",
    "coupon_redemptions",
    "promotions",
)


def upgrade() -> None:
    for statement in DDL:
        op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
