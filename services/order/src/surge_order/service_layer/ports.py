"""What the service layer needs from the outside world, as protocols (fakes in unit tests)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from surge_order.domain.order import CatalogItem

__all__ = ["Catalog", "CatalogUnavailable"]


class CatalogUnavailable(Exception):
    """The catalog could not be asked (down, too slow); the caller may retry."""


class Catalog(Protocol):
    async def skus(self, codes: Iterable[str]) -> Mapping[str, CatalogItem]:
        """The known SKUs among `codes`; unknown codes are absent."""
        ...
