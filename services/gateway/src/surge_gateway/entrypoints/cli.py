"""`surge-gateway serve | migrate | keys | token | channel-key`.

surge-gateway serve                          # uvicorn on uvloop + httptools
surge-gateway migrate                        # Alembic upgrade of the gateway's database
surge-gateway token --role operator --sub alice   # prints a local token as its last line
surge-gateway channel-key tmall              # creates/rotates a channel key, printed once
surge-gateway channel-key sf-express --kind carrier
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from surge_platform.config import load_settings

from surge_gateway.config import GatewaySettings

__all__ = ["UVICORN_OPTIONS", "main"]

# The roles a user token may carry (surge_gateway.auth.USER_ROLES; kept import-light here so a
# misconfigured start fails fast, and checked against the enum by the unit tests).
# How the gateway is served (also by bench/gateway_app.py, so that it measures the same thing).
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "lifespan": "on",
    "access_log": False,
    # Nothing reads the client address or scheme (rate keys are principals, links are paths):
    # uvicorn's X-Forwarded-* rewriting would be one more layer per request.
    "proxy_headers": False,
    "log_config": None,
}
TOKEN_ROLES = ("admin", "customer", "finance", "operator")


class _DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURGE_GATEWAY_", extra="ignore")

    database_url: SecretStr = Field(description="postgresql+asyncpg:// URL of the gateway's DB")


def _serve() -> None:
    settings = load_settings(GatewaySettings)  # before the heavy imports: fail fast

    import uvicorn
    from surge_platform.logging import configure_logging
    from surge_platform.telemetry import init_tracing

    from surge_gateway.app import create_app

    configure_logging("gateway", settings.log_level, json=settings.log_json)
    init_tracing("gateway")
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        timeout_graceful_shutdown=8,
        **UVICORN_OPTIONS,
    )


def _token(args: argparse.Namespace) -> None:
    from surge_gateway.keys import ensure_keypair, make_token

    private_path, public_path = ensure_keypair(Path(args.key_dir))
    token = make_token(
        private_path.read_bytes(),
        subject=args.sub,
        roles=args.role,
        issuer=args.issuer,
        audience=args.audience,
        ttl_seconds=args.ttl,
    )
    sys.stderr.write(f"verify with SURGE_GATEWAY_JWT_PUBLIC_KEY_FILE={public_path}\n")
    sys.stdout.write(token + "\n")


def _api_key(args: argparse.Namespace) -> None:
    from surge_platform.db import create_engine

    from surge_gateway.adapters.postgres import PgApiKeyStore
    from surge_gateway.auth import hash_api_key

    settings = load_settings(_DatabaseSettings)
    key = f"sk_{args.kind}_{secrets.token_urlsafe(32)}"

    async def put() -> None:
        engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
        try:
            await PgApiKeyStore(engine).put(args.kind, args.name, hash_api_key(key))
        finally:
            await engine.dispose()

    asyncio.run(put())
    sys.stderr.write(f"{args.kind} key for {args.name!r} (shown once; the old key is revoked):\n")
    sys.stdout.write(key + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="surge-gateway", description="Surge REST gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP server")
    commands.add_parser("migrate", help="apply database migrations and exit")
    token = commands.add_parser("token", help="print a token signed with the local dev key")
    token.add_argument("--role", action="append", required=True, choices=TOKEN_ROLES)
    token.add_argument("--sub", required=True, help="subject (the customer id for customers)")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    token.add_argument(
        "--key-dir",
        default=os.environ.get("SURGE_GATEWAY_KEY_DIR", ".surge"),
        help="where the local key pair lives (created if missing)",
    )
    token.add_argument("--issuer", default=GatewaySettings.model_fields["jwt_issuer"].default)
    token.add_argument("--audience", default=GatewaySettings.model_fields["jwt_audience"].default)
    keys = commands.add_parser("keys", help="create the local dev key pair if missing")
    keys.add_argument("--dir", default=os.environ.get("SURGE_GATEWAY_KEY_DIR", ".surge"))
    key = commands.add_parser("channel-key", help="create or rotate an API key; printed once")
    key.add_argument("name", help="channel (web, tmall, jd, douyin) or carrier name")
    key.add_argument("--kind", choices=["channel", "carrier"], default="channel")
    args = parser.parse_args(argv)

    if args.command == "serve":
        _serve()
    elif args.command == "migrate":
        from surge_platform.migrations import migrate, migrations_of

        settings = load_settings(_DatabaseSettings)
        migrate(migrations_of("surge_gateway"), settings.database_url.get_secret_value())
    elif args.command == "token":
        _token(args)
    elif args.command == "keys":
        from surge_gateway.keys import ensure_keypair

        _, public_path = ensure_keypair(Path(args.dir))
        sys.stdout.write(f"{public_path}\n")
    else:
        _api_key(args)


if __name__ == "__main__":
    main()
