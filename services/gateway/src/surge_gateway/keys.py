"""Local-development signing keys and tokens (`surge-gateway token`).

Production verifies tokens from an identity provider with `SURGE_GATEWAY_JWT_PUBLIC_KEY` from a
secret; this module only serves the local stack and tests: it keeps an Ed25519 key pair under
`.surge/` (git-ignored, created on first use) and signs tokens with it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["ensure_keypair", "generate_keypair", "make_token"]

PRIVATE_NAME = "jwt-private.pem"
PUBLIC_NAME = "jwt-public.pem"


def generate_keypair() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def ensure_keypair(directory: Path) -> tuple[Path, Path]:
    """The (private, public) PEM paths under `directory`, generating the pair if missing."""
    private_path, public_path = directory / PRIVATE_NAME, directory / PUBLIC_NAME
    if not private_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        private, public = generate_keypair()
        private_path.touch(mode=0o600)
        private_path.write_bytes(private)
        public_path.write_bytes(public)
    return private_path, public_path


def make_token(
    private_pem: bytes,
    *,
    subject: str,
    roles: Iterable[str],
    issuer: str = "surge",
    audience: str = "surge-api",
    ttl_seconds: int = 12 * 3600,
    algorithm: str = "EdDSA",
) -> str:
    now = int(time.time())
    claims = {
        "sub": subject,
        "roles": list(roles),
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, private_pem, algorithm=algorithm)
