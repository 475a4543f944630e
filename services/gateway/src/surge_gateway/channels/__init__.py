"""Marketplace intake: one mapper per channel from its own payload shape to `OrderCreate`.

    mapper = MAPPERS["tmall"]
    external_id, order = mapper(payload)   # raises MappingError with per-field errors

Each channel's payload is validated by its own pydantic model, so a bad payload is a 422 naming
the channel's own field names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from surge_gateway.channels import douyin, jd, tmall, web
from surge_gateway.problems import FieldError
from surge_gateway.schemas import OrderCreate

__all__ = ["MAPPERS", "MappingError", "map_payload"]

Mapper = Callable[[Any], OrderCreate]

MAPPERS: dict[str, Mapper] = {
    "web": web.to_order,
    "tmall": tmall.to_order,
    "jd": jd.to_order,
    "douyin": douyin.to_order,
}


class MappingError(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("payload does not map to an order")
        self.errors = errors


def map_payload(channel: str, payload: Any) -> OrderCreate:
    """The canonical order for `payload` from `channel` (a key of MAPPERS)."""
    try:
        return MAPPERS[channel](payload)
    except ValidationError as exc:
        raise MappingError(
            [
                FieldError(field=".".join(str(p) for p in e["loc"]) or "body", detail=e["msg"])
                for e in exc.errors()
            ]
        ) from exc
