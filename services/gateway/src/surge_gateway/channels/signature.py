"""Webhook signatures: `X-Surge-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

The HMAC key is the channel's API key (sent in `X-Api-Key` and stored only as a SHA-256 hash):
the gateway first authenticates the key against its hash, then checks that the body was signed
with it, so a body altered in transit is refused even when the key header is intact.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]

SIGNATURE_HEADER = "X-Surge-Signature"


def sign(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify(key: str, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(sign(key, body), header.strip())
