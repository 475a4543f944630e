"""`/v1/inventory` and `/v1/warehouses`: catalog, stock levels and adjustments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from surge.common.v1 import common_pb2
from surge.inventory.v1 import inventory_pb2

from surge_gateway import convert, schemas
from surge_gateway.api.deps import Downstreams, IdempotencyKey, Idempotent, run_once
from surge_gateway.auth import CurrentUser, Operator, Staff
from surge_gateway.idempotency import StoredResponse

router = APIRouter(prefix="/v1", tags=["inventory"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


@router.get("/inventory/skus/{sku}", response_model=schemas.SkuPublic, summary="One catalog SKU")
async def get_sku(sku: SkuPath, principal: CurrentUser, down: Downstreams) -> schemas.SkuPublic:
    reply = await down.inventory.GetSku(inventory_pb2.GetSkuRequest(sku=sku), timeout=down.timeout)
    return convert.sku_public(reply.sku)


@router.post(
    "/inventory/skus",
    status_code=201,
    response_model=schemas.SkuPublic,
    summary="Add a SKU to the catalog (operators)",
)
async def create_sku(
    body: schemas.SkuCreate, principal: Operator, down: Downstreams
) -> schemas.SkuPublic:
    reply = await down.inventory.CreateSku(
        inventory_pb2.CreateSkuRequest(
            sku=inventory_pb2.Sku(
                sku=body.sku,
                name=body.name,
                unit_price=common_pb2.Money(amount_minor=body.unit_price, currency=body.currency),
                weight_grams=body.weight_grams,
                category=body.category,
                active=True,
            )
        ),
        timeout=down.timeout,
    )
    return convert.sku_public(reply.sku)


@router.get(
    "/inventory/stock/{sku}",
    response_model=schemas.StockPublic,
    summary="Stock of one SKU, in total and per warehouse",
)
async def get_stock(sku: SkuPath, principal: Staff, down: Downstreams) -> schemas.StockPublic:
    reply = await down.inventory.GetStock(
        inventory_pb2.GetStockRequest(sku=sku), timeout=down.timeout
    )
    return convert.stock_public(reply.stock)


@router.post(
    "/inventory/adjustments",
    response_model=schemas.StockPublic,
    summary="Receive (+) or remove (-) stock in a warehouse (operators)",
)
async def adjust_stock(
    body: schemas.AdjustmentCreate,
    request: Request,
    principal: Operator,
    key: IdempotencyKey,
    idempotency: Idempotent,
    down: Downstreams,
) -> Response:
    async def produce() -> StoredResponse:
        reply = await down.inventory.AdjustStock(
            inventory_pb2.AdjustStockRequest(
                sku=body.sku,
                warehouse=body.warehouse,
                quantity=body.quantity,
                reason=body.reason,
                actor=principal.rate_key,
            ),
            timeout=down.timeout,
        )
        return StoredResponse(200, convert.stock_public(reply.stock).model_dump_json().encode())

    return await run_once(request, principal, key, idempotency, produce)


@router.get("/warehouses", response_model=schemas.WarehouseList, summary="All warehouses")
async def list_warehouses(principal: Staff, down: Downstreams) -> schemas.WarehouseList:
    reply = await down.inventory.ListWarehouses(
        inventory_pb2.ListWarehousesRequest(), timeout=down.timeout
    )
    return schemas.WarehouseList(
        items=[
            schemas.Warehouse(code=w.code, name=w.name, region=w.region) for w in reply.warehouses
        ]
    )
