"""Time-ordered identifiers (UUIDv7): sortable by creation, index-friendly, safe to expose."""

from __future__ import annotations

import uuid_utils

__all__ = ["new_id"]


def new_id() -> str:
    return str(uuid_utils.uuid7())
