"""`/healthz` (the process is up), `/readyz` (every dependency answers), `/metrics`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from surge_gateway.api.deps import Downstreams

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _database_ok(request: Request) -> bool:
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        return True
    try:
        async with asyncio.timeout(1.0), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


@router.get(
    "/readyz",
    summary="Readiness: all four services report SERVING and the database answers",
    responses={503: {"description": "A dependency is not ready"}},
)
async def readyz(request: Request, down: Downstreams) -> JSONResponse:
    checks, database = await asyncio.gather(down.all_serving(), _database_ok(request))
    checks["database"] = database
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
