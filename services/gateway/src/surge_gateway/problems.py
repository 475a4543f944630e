"""RFC 9457 problem+json for every error, and the one table from gRPC status to HTTP status.

Route code raises `ProblemError` for edge failures (auth, limits, idempotency) and lets
`grpc.aio.AioRpcError` from downstream calls propagate: `install()` registers the handlers that
turn both into `application/problem+json`. Internal details (debug strings, stack traces, service
names) never reach the client.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from surge_platform.grpc import field_violations
from surge_platform.logging import get_logger

__all__ = [
    "PROBLEM_RESPONSES",
    "FieldError",
    "Problem",
    "ProblemError",
    "error_response",
    "http_status_for",
    "install",
    "problem_response",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_log = get_logger("surge.gateway.problems")


class FieldError(BaseModel):
    """What is wrong with one field of the request."""

    field: str = Field(description="Dotted path of the field, e.g. lines.0.quantity")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# The one table: downstream gRPC status -> HTTP status. Anything missing is a 500.
HTTP_STATUS_BY_GRPC: Mapping[grpc.StatusCode, int] = {
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.OUT_OF_RANGE: 422,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.CANCELLED: 503,
}

# Statuses whose downstream message is a domain message meant for clients.
_SAFE_DETAIL = {
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.PERMISSION_DENIED,
}

_GENERIC_DETAIL = {
    504: "A downstream service did not answer in time; the request may be retried.",
    503: "A downstream service is unavailable; retry later.",
    500: "An unexpected error occurred.",
}


def http_status_for(code: grpc.StatusCode) -> int:
    return HTTP_STATUS_BY_GRPC.get(code, 500)


class ProblemError(Exception):
    """An error the gateway itself answers with, as problem+json."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        type_: str = "about:blank",
    ) -> None:
        super().__init__(detail or title or str(status))
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.type = type_


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
    type_: str = "about:blank",
) -> JSONResponse:
    body = Problem(
        type=type_,
        title=title or _TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors) if errors else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def error_response(error: ProblemError, instance: str) -> JSONResponse:
    return problem_response(
        error.status,
        error.detail,
        title=error.title,
        errors=error.errors,
        headers=error.headers,
        instance=instance,
        type_=error.type,
    )


def grpc_problem(error: grpc.aio.AioRpcError, instance: str | None = None) -> JSONResponse:
    code = error.code()
    status = http_status_for(code)
    errors: list[FieldError] | None = None
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        violations = field_violations(error)
        errors = [FieldError(field=f, detail=d) for f, d in violations.items()] or None
    detail = error.details() if code in _SAFE_DETAIL else _GENERIC_DETAIL.get(status)
    headers = {"Retry-After": "1"} if status == 503 else None
    if status >= 500:
        _log.warning("downstream error", code=code.name, path=instance)
    return problem_response(status, detail, errors=errors, headers=headers, instance=instance)


def _loc(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def install(app: FastAPI) -> None:
    """Register the exception handlers that make every error problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return error_response(exc, request.url.path)

    async def on_grpc(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, grpc.aio.AioRpcError)
        return grpc_problem(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [FieldError(field=_loc(e["loc"]), detail=str(e["msg"])) for e in exc.errors()]
        return problem_response(
            422, "The request is not valid.", errors=errors, instance=request.url.path
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            exc.status_code, detail, headers=exc.headers, instance=request.url.path
        )

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        # The gateway's own database (idempotency keys, API keys) is down or overloaded.
        _log.warning("database unavailable", path=request.url.path, error=type(exc).__name__)
        return problem_response(
            503, _GENERIC_DETAIL[503], headers={"Retry-After": "1"}, instance=request.url.path
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.error(
            "unhandled error",
            path=request.url.path,
            error=repr(exc),
            traceback="".join(traceback.format_exception(exc)),
        )
        return problem_response(500, _GENERIC_DETAIL[500], instance=request.url.path)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(grpc.aio.AioRpcError, on_grpc)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_database)
    app.add_exception_handler(ConnectionError, on_database)
    app.add_exception_handler(PoolTimeoutError, on_database)  # every pooled connection busy
    app.add_exception_handler(Exception, on_unexpected)


def _problem_doc(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_doc("Missing or invalid credentials"),
    403: _problem_doc("The principal's role may not do this"),
    404: _problem_doc("Not found (or not visible to this principal)"),
    409: _problem_doc("Conflicts with the current state"),
    422: _problem_doc("Invalid request, with per-field errors"),
    429: _problem_doc("Rate limit exceeded; see Retry-After"),
    503: _problem_doc("Shedding load or a dependency is down; see Retry-After"),
    504: _problem_doc("A downstream deadline passed"),
}
