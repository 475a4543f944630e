"""The catalog, asked over gRPC from inventory (`BatchGetSkus`), with a deadline on every call.

Every placement needs its SKUs' prices, so active SKUs are kept for `cache_seconds` (a few
seconds): a busy SKU then costs inventory one call per window instead of one per order. Unknown
and inactive SKUs are never kept, so a SKU created a moment ago is found at once and a refusal is
always current. The window is the staleness bound: a price or active flag changed in inventory
directly (the API has no update: SKUs are immutable once created) reaches placement within it,
and a SKU deactivated within it is still refused at reservation, where inventory rejects
unknown or inactive SKUs (the saga then cancels the order).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

import grpc
from surge.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from surge_platform.grpc import call_timeout

from surge_order.domain.order import CatalogItem
from surge_order.service_layer.ports import CatalogUnavailable

__all__ = ["GrpcCatalog"]

# Bounds the cache; on overflow it starts again empty (a catalog this hot is rare and cheap).
_MAX_CACHED = 10_000


class GrpcCatalog:
    def __init__(
        self, channel: grpc.aio.Channel, timeout: float, cache_seconds: float = 0.0
    ) -> None:
        self._stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._cached: dict[str, tuple[float, CatalogItem]] = {}

    async def skus(self, codes: Iterable[str]) -> Mapping[str, CatalogItem]:
        wanted = set(codes)
        if self._cache_seconds <= 0:
            return await self._fetch(wanted)
        now = time.monotonic()
        found: dict[str, CatalogItem] = {}
        for code in wanted:
            hit = self._cached.get(code)
            if hit is not None and hit[0] > now:
                found[code] = hit[1]
        missing = wanted - found.keys()
        if missing:
            fetched = await self._fetch(missing)
            found.update(fetched)
            if len(self._cached) > _MAX_CACHED:
                self._cached.clear()
            expires = now + self._cache_seconds
            for code, item in fetched.items():
                if item.active:
                    self._cached[code] = (expires, item)
        return found

    async def _fetch(self, codes: set[str]) -> dict[str, CatalogItem]:
        request = inventory_pb2.BatchGetSkusRequest(skus=sorted(codes))
        for attempt in (1, 2):
            try:
                reply = await self._stub.BatchGetSkus(request, timeout=call_timeout(self._timeout))
                break
            except grpc.aio.AioRpcError as exc:
                # A read is safe to repeat: once, when the connection (not the time) failed.
                if attempt == 1 and exc.code() == grpc.StatusCode.UNAVAILABLE:
                    continue
                raise CatalogUnavailable(
                    f"inventory BatchGetSkus failed: {exc.code().name}"
                ) from exc
        return {
            sku.sku: CatalogItem(
                sku=sku.sku,
                name=sku.name,
                unit_price_minor=sku.unit_price.amount_minor,
                currency=sku.unit_price.currency,
                weight_grams=sku.weight_grams,
                active=sku.active,
            )
            for sku in reply.skus
        }
