"""Rules, their versions and audit, the review queue, and the recent-order counts the rules use
(schema: migrations/versions/0002_rules.py). One statement per method, on the unit of work's
connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from surge_platform.raw import raw_fetchrow

from surge_order.domain.order import Address
from surge_order.domain.rules import Action, RecentCounts, Rule, RuleDefinition

__all__ = ["AuditRecord", "ReviewRecord", "RulesRepository"]

_RULE_COLUMNS = (
    "name, condition, action, params, priority, enabled, description, version, updated_at, "
    "updated_by"
)
_REVIEW_COLUMNS = (
    "r.order_id, r.reasons, r.status, r.held_at, r.escalated_at, r.decided_at, r.decided_by, "
    "r.note, o.customer_id, o.channel, o.total_minor, o.currency, o.tags, o.status AS order_status"
)
_RULE_SET_VERSION = text("SELECT version FROM rule_set WHERE id = 1")
_BUMP = text("UPDATE rule_set SET version = version + 1 WHERE id = 1 RETURNING version")
_ALL = text(f"SELECT {_RULE_COLUMNS} FROM rules ORDER BY priority DESC, name")
_ONE = text(f"SELECT {_RULE_COLUMNS} FROM rules WHERE name = :name")
_LOCK = text(f"SELECT {_RULE_COLUMNS} FROM rules WHERE name = :name FOR UPDATE")
_VERSIONS = text(
    "SELECT name, condition, action, params, priority, enabled, description, version, "
    "created_at AS updated_at, created_by AS updated_by FROM rule_versions "
    "WHERE name = :name ORDER BY version DESC"
)
_AUDIT = text(
    "SELECT name, version, change, actor, at FROM rule_audit WHERE name = :name ORDER BY id DESC"
)
# Writes the current row, the version and the audit entry at once.
_WRITE = text(
    "WITH r AS (INSERT INTO rules (name, condition, action, params, priority, enabled, "
    "description, version, updated_at, updated_by) VALUES (:name, :condition, :action, "
    "CAST(:params AS jsonb), :priority, :enabled, :description, :version, :at, :actor) "
    "ON CONFLICT (name) DO UPDATE SET condition = EXCLUDED.condition, action = EXCLUDED.action, "
    "params = EXCLUDED.params, priority = EXCLUDED.priority, enabled = EXCLUDED.enabled, "
    "description = EXCLUDED.description, version = EXCLUDED.version, "
    "updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by "
    "WHERE rules.version = :version - 1 RETURNING name), "
    "v AS (INSERT INTO rule_versions (name, version, condition, action, params, priority, "
    "enabled, description, created_at, created_by) SELECT name, :version, :condition, :action, "
    "CAST(:params AS jsonb), :priority, :enabled, :description, :at, :actor FROM r) "
    "INSERT INTO rule_audit (name, version, change, actor, at) "
    "SELECT name, :version, :change, :actor, :at FROM r RETURNING id"
)
_RECENT = text(
    "SELECT count(*) FILTER (WHERE customer_phone = :phone AND created_at > :since_10m) AS phone, "
    "count(*) FILTER (WHERE province = :province AND city = :city AND district = :district "
    "AND line1 = :line1 AND created_at > :since_10m) AS address, "
    "count(*) FILTER (WHERE customer_phone = :phone AND created_at > :since_5m AND "
    "(SELECT array_agg(DISTINCT l ->> 0 ORDER BY l ->> 0) FROM jsonb_array_elements(lines) l) "
    "= CAST(:skus AS text[])) AS duplicates "
    "FROM orders WHERE created_at > :since_10m AND (customer_phone = :phone OR (province = "
    ":province AND city = :city AND district = :district AND line1 = :line1))"
)
_ADD_REVIEW = text(
    "INSERT INTO order_reviews (order_id, reasons, status, held_at) "
    "VALUES (:order_id, :reasons, 'pending', :held_at) ON CONFLICT DO NOTHING"
)
_PENDING = text("SELECT 1 FROM order_reviews WHERE order_id = :order_id AND status = 'pending'")
_REVIEW = text(
    f"SELECT {_REVIEW_COLUMNS} FROM order_reviews r JOIN orders o ON o.id = r.order_id "
    "WHERE r.order_id = :order_id"
)
_QUEUE = text(
    f"SELECT {_REVIEW_COLUMNS} FROM order_reviews r JOIN orders o ON o.id = r.order_id "
    "WHERE r.status = :status AND (r.status <> 'pending' OR o.status <> 'cancelled') "
    "AND (CAST(:after_at AS timestamptz) IS NULL OR "
    "(r.held_at, r.order_id) > (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid))) "
    "ORDER BY r.held_at, r.order_id LIMIT :limit"
)
_DECIDE = text(
    "UPDATE order_reviews SET status = :status, decided_at = :at, decided_by = :actor, "
    "note = :note WHERE order_id = :order_id AND status = 'pending'"
)
# Claimed by one replica: a row escalated by another is no longer `escalated_at IS NULL`.
_ESCALATE = text(
    "UPDATE order_reviews SET escalated_at = :now WHERE order_id IN (SELECT r.order_id "
    "FROM order_reviews r JOIN orders o ON o.id = r.order_id WHERE r.status = 'pending' "
    "AND r.escalated_at IS NULL AND r.held_at <= :before AND o.status <> 'cancelled' "
    "ORDER BY r.held_at LIMIT :limit FOR UPDATE OF r SKIP LOCKED) "
    "RETURNING order_id, reasons, held_at"
)


@dataclass(frozen=True)
class AuditRecord:
    name: str
    version: int
    change: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class ReviewRecord:
    order_id: str
    reasons: tuple[str, ...]
    status: str
    held_at: datetime
    escalated_at: datetime | None
    decided_at: datetime | None
    decided_by: str
    note: str
    customer_id: str
    channel: str
    total_minor: int
    currency: str
    tags: tuple[str, ...]
    order_status: str


class RulesRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # ------------------------------------------------------------------------------ rules

    async def rule_set_version(self) -> int:
        return int((await self._connection.execute(_RULE_SET_VERSION)).scalar_one())

    async def all(self) -> list[Rule]:
        return [_rule(row) for row in (await self._connection.execute(_ALL)).all()]

    async def get(self, name: str, *, lock: bool = False) -> Rule | None:
        row = (await self._connection.execute(_LOCK if lock else _ONE, {"name": name})).first()
        return _rule(row) if row else None

    async def versions(self, name: str) -> list[Rule]:
        rows = (await self._connection.execute(_VERSIONS, {"name": name})).all()
        return [_rule(row) for row in rows]

    async def audit(self, name: str) -> list[AuditRecord]:
        rows = (await self._connection.execute(_AUDIT, {"name": name})).all()
        return [AuditRecord(*row) for row in rows]

    async def write(self, rule: Rule, change: str) -> bool:
        """Store `rule` as its version (1: create); False if the name or version is taken."""
        d = rule.definition
        params = {
            "name": rule.name,
            "condition": d.condition,
            "action": d.action.value,
            "params": json.dumps(dict(d.params), sort_keys=True),
            "priority": d.priority,
            "enabled": d.enabled,
            "description": d.description,
            "version": rule.version,
            "at": rule.updated_at,
            "actor": rule.updated_by,
            "change": change,
        }
        written = (await self._connection.execute(_WRITE, params)).first()
        if written is None:
            return False
        await self._connection.execute(_BUMP)
        return True

    # ------------------------------------------------------------------- recent orders

    async def recent(
        self, phone: str, address: Address, skus: list[str], now: datetime
    ) -> RecentCounts:
        row = await raw_fetchrow(
            self._connection,
            _RECENT,
            {
                "phone": phone,
                "province": address.province,
                "city": address.city,
                "district": address.district,
                "line1": address.line1,
                "skus": sorted(set(skus)),
                "since_10m": now - timedelta(minutes=10),
                "since_5m": now - timedelta(minutes=5),
            },
            # A read before the order's insert: it needs no BEGIN of its own (one statement
            # sees one snapshot either way), so a plain placement stays one write statement.
            begin=False,
        )
        assert row is not None  # an aggregate without GROUP BY: always one row
        # This order is not inserted yet: it counts itself.
        return RecentCounts(
            phone_orders_10m=row.phone + 1,
            address_orders_10m=row.address + 1,
            duplicates_5m=row.duplicates,
        )

    # ----------------------------------------------------------------------- reviews

    async def add_review(self, order_id: str, reasons: list[str], held_at: datetime) -> None:
        await self._connection.execute(
            _ADD_REVIEW, {"order_id": order_id, "reasons": reasons, "held_at": held_at}
        )

    async def review_pending(self, order_id: str) -> bool:
        found = await self._connection.execute(_PENDING, {"order_id": order_id})
        return found.first() is not None

    async def review(self, order_id: str) -> ReviewRecord | None:
        row = (await self._connection.execute(_REVIEW, {"order_id": order_id})).first()
        return _review(row) if row else None

    async def queue(
        self, status: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[ReviewRecord]:
        params = {
            "status": status,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        }
        return [_review(row) for row in (await self._connection.execute(_QUEUE, params)).all()]

    async def decide(self, order_id: str, status: str, actor: str, note: str, at: datetime) -> bool:
        """Record the decision on a pending review; False if it was decided already."""
        result = await self._connection.execute(
            _DECIDE,
            {"order_id": order_id, "status": status, "actor": actor, "note": note, "at": at},
        )
        return bool(getattr(result, "rowcount", 0))

    async def escalate_due(
        self, before: datetime, now: datetime, limit: int
    ) -> list[tuple[str, list[str], datetime]]:
        rows = (
            await self._connection.execute(
                _ESCALATE, {"before": before, "now": now, "limit": limit}
            )
        ).all()
        return [(str(row.order_id), list(row.reasons), row.held_at) for row in rows]


def _rule(row: Any) -> Rule:
    params = row.params if isinstance(row.params, dict) else json.loads(row.params)
    return Rule(
        name=row.name,
        definition=RuleDefinition(
            condition=row.condition,
            action=Action(row.action),
            params=params,
            priority=row.priority,
            enabled=row.enabled,
            description=row.description,
        ),
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _review(row: Any) -> ReviewRecord:
    return ReviewRecord(
        order_id=str(row.order_id),
        reasons=tuple(row.reasons),
        status=row.status,
        held_at=row.held_at,
        escalated_at=row.escalated_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        note=row.note,
        customer_id=row.customer_id,
        channel=row.channel,
        total_minor=row.total_minor,
        currency=row.currency,
        tags=tuple(row.tags),
        order_status=row.order_status,
    )
