"""InventoryService over gRPC: request -> catalog operation -> response, nothing else.

Domain errors raised below become status codes in the platform interceptor
(`surge_platform.grpc.STATUS_BY_ERROR`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.inventory.v1 import inventory_pb2 as pb
from surge.inventory.v1 import inventory_pb2_grpc as pb_grpc

from surge_inventory.adapters.metrics import InventoryMetrics
from surge_inventory.domain import model
from surge_inventory.service_layer import catalog
from surge_inventory.service_layer.unit_of_work import InventoryReader, InventoryUnitOfWork

__all__ = ["SERVICE_NAME", "InventoryServicer"]

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["InventoryService"].full_name

_STATUS = {
    model.ReservationStatus.HELD: pb.RESERVATION_STATUS_HELD,
    model.ReservationStatus.COMMITTED: pb.RESERVATION_STATUS_COMMITTED,
    model.ReservationStatus.CONFIRMED: pb.RESERVATION_STATUS_CONFIRMED,
    model.ReservationStatus.RELEASED: pb.RESERVATION_STATUS_RELEASED,
    model.ReservationStatus.EXPIRED: pb.RESERVATION_STATUS_EXPIRED,
}

Context = grpc.aio.ServicerContext[object, object]


class InventoryServicer(pb_grpc.InventoryServiceServicer):
    def __init__(
        self,
        uow_factory: Callable[[], InventoryUnitOfWork],
        reader_factory: Callable[[], InventoryReader],
        metrics: InventoryMetrics,
    ) -> None:
        self._uow = uow_factory
        self._reader = reader_factory
        self._metrics = metrics

    async def CreateSku(  # noqa: N802 - gRPC method names
        self, request: pb.CreateSkuRequest, context: Context
    ) -> pb.CreateSkuResponse:
        given = request.sku
        sku = model.Sku(
            sku=given.sku,
            name=given.name,
            unit_price_minor=given.unit_price.amount_minor,
            currency=given.unit_price.currency,
            weight_grams=given.weight_grams,
            category=given.category,
            active=given.active,
        )
        created = await catalog.create_sku(sku, self._uow())
        return pb.CreateSkuResponse(sku=sku_pb(created))

    async def GetSku(  # noqa: N802
        self, request: pb.GetSkuRequest, context: Context
    ) -> pb.GetSkuResponse:
        return pb.GetSkuResponse(sku=sku_pb(await catalog.get_sku(request.sku, self._reader())))

    async def BatchGetSkus(  # noqa: N802
        self, request: pb.BatchGetSkusRequest, context: Context
    ) -> pb.BatchGetSkusResponse:
        found = await catalog.get_skus(list(request.skus), self._reader())
        return pb.BatchGetSkusResponse(skus=[sku_pb(s) for s in found])

    async def ListWarehouses(  # noqa: N802
        self, request: pb.ListWarehousesRequest, context: Context
    ) -> pb.ListWarehousesResponse:
        found = await catalog.list_warehouses(request.region, self._reader())
        return pb.ListWarehousesResponse(
            warehouses=[pb.Warehouse(code=w.code, name=w.name, region=w.region) for w in found]
        )

    async def GetStock(  # noqa: N802
        self, request: pb.GetStockRequest, context: Context
    ) -> pb.GetStockResponse:
        return pb.GetStockResponse(
            stock=stock_pb(await catalog.get_stock(request.sku, self._reader()))
        )

    async def ListStock(  # noqa: N802
        self, request: pb.ListStockRequest, context: Context
    ) -> pb.ListStockResponse:
        page = await catalog.list_stock(request.page_size, request.page_token, self._reader())
        return pb.ListStockResponse(
            stocks=[stock_pb(s) for s in page.stocks], next_page_token=page.next_page_token
        )

    async def AdjustStock(  # noqa: N802
        self, request: pb.AdjustStockRequest, context: Context
    ) -> pb.AdjustStockResponse:
        view = await catalog.adjust_stock(
            self._uow(),
            self._metrics,
            sku=request.sku,
            warehouse=request.warehouse,
            quantity=request.quantity,
            reason=request.reason,
            actor=request.actor,
        )
        return pb.AdjustStockResponse(stock=stock_pb(view))

    async def GetReservation(  # noqa: N802
        self, request: pb.GetReservationRequest, context: Context
    ) -> pb.GetReservationResponse:
        found = await catalog.get_reservation(request.order_id, self._reader())
        return pb.GetReservationResponse(
            reservation=pb.Reservation(
                id=found.id,
                order_id=found.order_id,
                status=_STATUS[found.status],
                allocations=[
                    pb.Allocation(sku=a.sku, warehouse=a.warehouse, quantity=a.quantity)
                    for a in found.allocations
                ],
                expires_at=_timestamp(found.expires_at),
                created_at=_timestamp(found.created_at),
            )
        )


def sku_pb(sku: model.Sku) -> pb.Sku:
    return pb.Sku(
        sku=sku.sku,
        name=sku.name,
        unit_price=common_pb2.Money(amount_minor=sku.unit_price_minor, currency=sku.currency),
        weight_grams=sku.weight_grams,
        category=sku.category,
        active=sku.active,
    )


def stock_pb(view: catalog.StockView) -> pb.Stock:
    return pb.Stock(
        sku=view.sku,
        on_hand=view.on_hand,
        reserved=view.reserved,
        available=view.available,
        warehouses=[
            pb.WarehouseStock(
                warehouse=r.warehouse, on_hand=r.on_hand, reserved=r.reserved, available=r.available
            )
            for r in view.rows
        ],
    )


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
