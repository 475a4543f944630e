"""The admin audit trail: one `audit_log` row (and one `surge.audit` log line) per admin action.

Rows are written after the action, in their own short transaction, whatever the outcome: a
refused or failed action is audited too. Pages are newest first; the cursor is the last row's
id, opaque to clients.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Protocol, TypeVar

import grpc
from fastapi import Depends, Request
from opentelemetry import trace
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_platform.ids import new_id
from surge_platform.logging import get_logger

from surge_gateway.auth import Principal, Role, allow
from surge_gateway.problems import FieldError, ProblemError

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditPage",
    "Audited",
    "Auditor",
    "PgAuditLog",
    "decode_cursor",
    "encode_cursor",
]

T = TypeVar("T")
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_log = get_logger("surge.audit")


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    target: str
    outcome: str
    at: datetime
    request_id: str
    id: int = 0


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None  # id to continue from, None on the last page


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...

    async def page(self, before: int | None, limit: int, action: str | None) -> AuditPage: ...


def encode_cursor(before: int) -> str:
    return base64.urlsafe_b64encode(f"a:{before}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = raw.partition(":")
        if kind != "a" or not number.isdigit():
            raise ValueError(raw)
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ProblemError(
            422,
            "Invalid cursor.",
            errors=[FieldError(field="cursor", detail="use next_cursor from the previous page")],
        ) from None


_INSERT = text(
    "INSERT INTO audit_log (actor, action, target, outcome, at, request_id) "
    "VALUES (:actor, :action, :target, :outcome, :at, :request_id)"
)
_PAGE = text(
    """
    SELECT id, actor, action, target, outcome, at, request_id FROM audit_log
    WHERE (CAST(:before AS bigint) IS NULL OR id < :before)
      AND (CAST(:action AS text) IS NULL OR action = :action)
    ORDER BY id DESC LIMIT :limit
    """
)


class PgAuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, entry: AuditEntry) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                _INSERT,
                {
                    "actor": entry.actor,
                    "action": entry.action,
                    "target": entry.target,
                    "outcome": entry.outcome,
                    "at": entry.at,
                    "request_id": entry.request_id,
                },
            )

    async def page(self, before: int | None, limit: int, action: str | None) -> AuditPage:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(_PAGE, {"before": before, "action": action, "limit": limit + 1})
            ).all()
        entries = [
            AuditEntry(
                id=row.id,
                actor=row.actor,
                action=row.action,
                target=row.target,
                outcome=row.outcome,
                at=row.at,
                request_id=row.request_id,
            )
            for row in rows[:limit]
        ]
        return AuditPage(entries, entries[-1].id if len(rows) > limit else None)


class Auditor:
    """Runs one admin action and audits it: a row in `audit_log` and a `surge.audit` line."""

    def __init__(self, log: AuditLog, principal: Principal, request_id: str) -> None:
        self._log = log
        self.principal = principal
        self.request_id = request_id

    @property
    def actor(self) -> str:
        return self.principal.rate_key

    async def __call__(self, action: str, target: str, call: Callable[[], Awaitable[T]]) -> T:
        outcome = "ok"
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            outcome = exc.code().name
            raise
        except ProblemError as exc:
            outcome = str(exc.status)
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            entry = AuditEntry(
                actor=self.actor,
                action=action,
                target=target,
                outcome=outcome,
                at=datetime.now(UTC),
                request_id=self.request_id,
            )
            _log.info(
                "audit",
                actor=entry.actor,
                action=action,
                target=target,
                outcome=outcome,
                at=entry.at.isoformat(),
                request_id=entry.request_id,
            )
            try:
                await self._log.record(entry)
            except Exception:
                # The action already happened; its answer must not be lost to an audit failure.
                _log.error("audit row not written", action=action, target=target, exc_info=True)


def request_id(request: Request) -> str:
    """The caller's X-Request-Id if sane, else the trace id, so the row joins the trace."""
    given = request.headers.get("x-request-id", "")
    if _REQUEST_ID.match(given):
        return given
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else new_id()


_admin = allow(Role.ADMIN)


async def _auditor(  # async: a plain def dependency would run in the thread pool
    request: Request, principal: Annotated[Principal, Depends(_admin)]
) -> Auditor:
    return Auditor(request.app.state.audit_log, principal, request_id(request))


Audited = Annotated[Auditor, Depends(_auditor)]
