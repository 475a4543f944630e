"""The catalog, asked over gRPC from inventory (`BatchGetSkus`), with a deadline on every call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import grpc
from surge.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from surge_platform.grpc import call_timeout

from surge_order.domain.order import CatalogItem
from surge_order.service_layer.ports import CatalogUnavailable

__all__ = ["GrpcCatalog"]


class GrpcCatalog:
    def __init__(self, channel: grpc.aio.Channel, timeout: float) -> None:
        self._stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        self._timeout = timeout

    async def skus(self, codes: Iterable[str]) -> Mapping[str, CatalogItem]:
        request = inventory_pb2.BatchGetSkusRequest(skus=sorted(set(codes)))
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
