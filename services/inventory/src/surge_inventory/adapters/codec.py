"""JSON columns shared by the stock and reservation queries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from surge_inventory.domain.model import Allocation

__all__ = ["allocations_json", "decode_json"]


def allocations_json(allocations: Sequence[Allocation]) -> str:
    return json.dumps(
        [{"sku": a.sku, "warehouse": a.warehouse, "quantity": a.quantity} for a in allocations]
    )


def decode_json(value: Any) -> Any:
    """A json/jsonb value as Python, whether or not the driver decoded it already."""
    return json.loads(value) if isinstance(value, str | bytes) else value
