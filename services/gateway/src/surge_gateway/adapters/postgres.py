"""PostgreSQL adapters: idempotency keys, API keys and the intake log (SQLAlchemy Core).

Each method is one short transaction of its own: these stores sit on the request path and hold
no locks across a downstream call.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.db import raw_execute, raw_fetchrow

from surge_gateway.auth import ApiKey
from surge_gateway.idempotency import Claim, ClaimState, StoredResponse

__all__ = ["PgApiKeyStore", "PgIdempotencyStore", "PgIntakeLog"]

_CLAIM = text(
    """
    INSERT INTO idempotency_keys AS k (scope, key, fingerprint, locked_until, expires_at)
    VALUES (:scope, :key, :fingerprint, now() + :lease, now() + :ttl)
    ON CONFLICT (scope, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, locked_until = EXCLUDED.locked_until,
            expires_at = EXCLUDED.expires_at, status = NULL, headers = NULL, body = NULL
        WHERE k.expires_at < now()
           OR (k.status IS NULL AND k.locked_until < now() AND k.fingerprint = EXCLUDED.fingerprint)
    RETURNING true
    """
)
# The claim and, when the key exists, what it holds, in one round trip. The outer SELECT reads
# the statement's snapshot: it sees an existing key but not the row this INSERT wrote (then
# `claimed` says so), and a key inserted concurrently after the snapshot reads as absent,
# which the caller treats as in flight and retries.
_CLAIM_OR_LOOKUP = text(
    f"""
    WITH claimed AS ({_CLAIM.text.strip()})
    SELECT (SELECT true FROM claimed) AS claimed, k.fingerprint, k.status, k.headers, k.body
    FROM (SELECT 1) AS one
    LEFT JOIN idempotency_keys k ON k.scope = :scope AND k.key = :key
    """
)
_COMPLETE = text(
    "UPDATE idempotency_keys SET status = :status, headers = CAST(:headers AS jsonb), body = :body "
    "WHERE scope = :scope AND key = :key"
)
_RELEASE = text(
    "DELETE FROM idempotency_keys WHERE scope = :scope AND key = :key AND status IS NULL"
)


class PgIdempotencyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(
        self, scope: str, key: str, fingerprint: str, ttl: timedelta, lease: timedelta
    ) -> Claim:
        params = {
            "scope": scope,
            "key": key,
            "fingerprint": fingerprint,
            "ttl": ttl,
            "lease": lease,
        }
        # One statement in autocommit on raw asyncpg: no BEGIN/COMMIT round trips and no
        # SQLAlchemy overhead on the accept path of every order.
        async with self._engine.connect() as conn:
            row = await raw_fetchrow(conn, _CLAIM_OR_LOOKUP, params)
        if row is not None and row.claimed:
            return Claim(ClaimState.NEW)
        if row is None or row.fingerprint is None:  # released meanwhile: the caller retries
            return Claim(ClaimState.IN_FLIGHT)
        if row.fingerprint != fingerprint:
            return Claim(ClaimState.MISMATCH)
        if row.status is None:
            return Claim(ClaimState.IN_FLIGHT)
        return Claim(
            ClaimState.DONE, StoredResponse(row.status, bytes(row.body), dict(row.headers or {}))
        )

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        async with self._engine.connect() as conn:  # one statement: autocommit
            await raw_execute(
                conn,
                _COMPLETE,
                {
                    "scope": scope,
                    "key": key,
                    "status": response.status,
                    "headers": json.dumps(response.headers),
                    "body": response.body,
                },
            )

    async def release(self, scope: str, key: str) -> None:
        async with self._engine.connect() as conn:  # one statement: autocommit
            await raw_execute(conn, _RELEASE, {"scope": scope, "key": key})

    async def purge_expired(self) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                text("DELETE FROM idempotency_keys WHERE expires_at < now()")
            )
        return int(result.rowcount or 0)


class PgApiKeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, key_hash: str) -> ApiKey | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT name, kind FROM api_keys WHERE key_hash = :h"), {"h": key_hash}
                )
            ).one_or_none()
        return None if row is None else ApiKey(name=row.name, kind=row.kind)

    async def put(self, kind: str, name: str, key_hash: str) -> None:
        """Create the key of (kind, name) or replace it: the old key stops working."""
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO api_keys (kind, name, key_hash) VALUES (:kind, :name, :h) "
                    "ON CONFLICT (kind, name) DO UPDATE "
                    "SET key_hash = EXCLUDED.key_hash, rotated_at = now()"
                ),
                {"kind": kind, "name": name, "h": key_hash},
            )


_RECORD_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:phone))")
_RECORD_MATCH = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM intake_log
        WHERE phone_hash = :phone AND skus = :skus
          AND received_at BETWEEN now() - CAST(:window AS interval)
                              AND now() + CAST(:window AS interval)
          AND NOT (channel = :channel AND identity = :identity)
    )
    """
)
_RECORD_INSERT = text(
    "INSERT INTO intake_log (channel, identity, phone_hash, skus) "
    "VALUES (:channel, :identity, :phone, :skus) ON CONFLICT (channel, identity) DO NOTHING"
)
# Match and insert in one round trip (after the lock, in its own statement so its snapshot
# sees every intake committed before the lock was granted). The match never counts the row
# inserted here: it reads the statement's snapshot and excludes this (channel, identity).
_RECORD_MATCH_AND_INSERT = text(
    f"WITH inserted AS ({_RECORD_INSERT.text}) {_RECORD_MATCH.text.strip()} AS duplicate"
)


class PgIntakeLog:
    """Recent orders by (phone, SKU set), to flag possible duplicates across channels."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(
        self, channel: str, identity: str, phone_hash: str, skus: str, window: timedelta
    ) -> bool:
        """Log this order; True if another order with the same phone and SKUs is in the window."""
        params = {
            "channel": channel,
            "identity": identity,
            "phone": phone_hash,
            "skus": skus,
            "window": window,
        }
        async with self._engine.begin() as conn:
            # Serialises intake per phone so two simultaneous duplicates cannot miss each other.
            await raw_execute(conn, _RECORD_LOCK, params)
            row = await raw_fetchrow(conn, _RECORD_MATCH_AND_INSERT, params)
        return bool(row is not None and row.duplicate)

    async def forget(self, channel: str, identity: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM intake_log WHERE channel = :c AND identity = :i"),
                {"c": channel, "i": identity},
            )

    async def purge_older_than(self, age: timedelta) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                text("DELETE FROM intake_log WHERE received_at < now() - CAST(:age AS interval)"),
                {"age": age},
            )
        return int(result.rowcount or 0)
