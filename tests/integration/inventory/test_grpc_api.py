"""InventoryService over gRPC, against the real `surge-inventory` process (seeded demo data)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest
from google.protobuf.message import Message
from sqlalchemy import text
from surge.common.v1 import common_pb2
from surge.inventory.v1 import inventory_pb2 as pb
from surge.inventory.v1 import inventory_pb2_grpc as pb_grpc
from surge_inventory.entrypoints import cli, seed
from surge_platform.db import create_engine
from surge_platform.grpc import field_violations
from surge_platform.ids import new_id
from surge_platform.messaging import HEADER_MESSAGE_ID, Topology, connect
from surge_platform.testing.servers import NatsServer, PostgresServer
from surge_platform.testing.services import ServiceProcess, service_env

from tests.support import wait_until

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    Stub = pb_grpc.InventoryServiceAsyncStub


@pytest.fixture(scope="module")
async def service(
    postgres_server: PostgresServer, nats_server: NatsServer
) -> AsyncIterator[ServiceProcess]:
    database = f"inv_{uuid.uuid4().hex[:12]}"
    postgres_server.psql(f"CREATE DATABASE {database}")
    env = service_env(
        "inventory",
        postgres_server.url(database),
        nats_server.url,
        f"g{uuid.uuid4().hex[:12]}",
    )
    # The CLI in-process (a thread, as it runs its own event loop) saves two slow process starts.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        await asyncio.to_thread(cli.main, ["migrate"])
        await asyncio.to_thread(cli.main, ["seed"])
    again = await seed.seed(postgres_server.url(database))
    assert (again.warehouses, again.skus, again.stock_rows) == (0, 0, 0)
    process = ServiceProcess("inventory", env=env)
    await asyncio.to_thread(process.start)
    yield process
    assert await asyncio.to_thread(process.stop) == 0


@pytest.fixture(scope="module")
async def stub(service: ServiceProcess) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(service.address) as channel:
        yield pb_grpc.InventoryServiceStub(channel)


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


def sku(code: str, **changes: object) -> pb.Sku:
    fields: dict[str, object] = {
        "sku": code,
        "name": "Jasmine tea 100 g",
        "unit_price": common_pb2.Money(amount_minor=4_500, currency="CNY"),
        "weight_grams": 120,
        "category": "tea",
        "active": True,
        **changes,
    }
    return pb.Sku(**fields)  # type: ignore[arg-type]


async def send(service: ServiceProcess, command: Message) -> None:
    nc = await connect(service.env["SURGE_INVENTORY_NATS_URL"], "grpc-test")
    try:
        topology = Topology(service.env["SURGE_INVENTORY_NATS_PREFIX"])
        message_id = new_id()
        await nc.jetstream().publish(
            topology.subject_for(command),
            command.SerializeToString(),
            headers={HEADER_MESSAGE_ID: message_id, "Nats-Msg-Id": message_id},
        )
    finally:
        await nc.drain()


async def test_seed_loads_warehouses_catalog_and_the_flash_sale_sku(stub: Stub) -> None:
    warehouses = (await stub.ListWarehouses(pb.ListWarehousesRequest())).warehouses
    assert [w.code for w in warehouses] == sorted(w.code for w in seed.WAREHOUSES)
    zhejiang = await stub.ListWarehouses(pb.ListWarehousesRequest(region="Zhejiang"))
    assert [w.code for w in zhejiang.warehouses] == ["HZ-01"]

    flash = (await stub.GetStock(pb.GetStockRequest(sku=seed.FLASH_SKU))).stock
    assert (flash.on_hand, flash.reserved, flash.available) == (100, 0, 100)
    assert [(w.warehouse, w.available) for w in flash.warehouses] == [("SH-01", 100)]
    tea = (await stub.GetSku(pb.GetSkuRequest(sku="TEA-LONGJING-250G"))).sku
    assert tea.unit_price == common_pb2.Money(amount_minor=16_800, currency="CNY")
    assert tea.active


async def test_create_sku_then_read_it_back_one_and_in_batch(stub: Stub) -> None:
    code = f"TEA-{uuid.uuid4().hex[:8]}"
    created = (await stub.CreateSku(pb.CreateSkuRequest(sku=sku(code)))).sku
    assert created == sku(code)
    assert (await stub.GetSku(pb.GetSkuRequest(sku=code))).sku == sku(code)
    batch = await stub.BatchGetSkus(pb.BatchGetSkusRequest(skus=[code, "NOPE", code, "BOOK-3BODY"]))
    assert sorted(s.sku for s in batch.skus) == sorted([code, "BOOK-3BODY"])

    duplicate = await rpc_error(stub.CreateSku(pb.CreateSkuRequest(sku=sku(code))))
    assert duplicate.code() == grpc.StatusCode.ALREADY_EXISTS
    missing = await rpc_error(stub.GetSku(pb.GetSkuRequest(sku="NO-SUCH-SKU")))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    no_stock = await rpc_error(stub.GetStock(pb.GetStockRequest(sku="NO-SUCH-SKU")))
    assert no_stock.code() == grpc.StatusCode.NOT_FOUND
    huge = pb.BatchGetSkusRequest(skus=[f"S{n}" for n in range(1001)])
    assert set(field_violations(await rpc_error(stub.BatchGetSkus(huge)))) == {"skus"}


async def test_create_sku_rejects_bad_fields_with_per_field_details(stub: Stub) -> None:
    bad = sku(
        "bad code!",
        name=" ",
        unit_price=common_pb2.Money(amount_minor=-1, currency="yuan"),
        weight_grams=0,
        category="",
    )
    error = await rpc_error(stub.CreateSku(pb.CreateSkuRequest(sku=bad)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(error)) == {
        "sku.sku",
        "sku.name",
        "sku.unit_price.amount_minor",
        "sku.unit_price.currency",
        "sku.weight_grams",
        "sku.category",
    }
    too_long = await rpc_error(stub.CreateSku(pb.CreateSkuRequest(sku=sku("X" * 65))))
    assert set(field_violations(too_long)) == {"sku.sku"}
    assert (await rpc_error(stub.GetSku(pb.GetSkuRequest(sku="bad code!")))).code() == (
        grpc.StatusCode.NOT_FOUND
    )


async def test_adjust_stock_receives_and_removes_and_audits_each_change(
    stub: Stub, service: ServiceProcess
) -> None:
    code = f"RICE-{uuid.uuid4().hex[:8]}"
    await stub.CreateSku(pb.CreateSkuRequest(sku=sku(code)))
    received = await stub.AdjustStock(
        pb.AdjustStockRequest(sku=code, warehouse="GZ-01", quantity=10, reason="PO 1", actor="ops")
    )
    assert (received.stock.on_hand, received.stock.available) == (10, 10)
    removed = await stub.AdjustStock(
        pb.AdjustStockRequest(sku=code, warehouse="GZ-01", quantity=-3, reason="damaged")
    )
    assert [
        (w.warehouse, w.on_hand, w.reserved, w.available) for w in removed.stock.warehouses
    ] == [("GZ-01", 7, 0, 7)]
    engine = create_engine(service.env["SURGE_INVENTORY_DATABASE_URL"], pool_size=1)
    try:
        async with engine.connect() as conn:
            audit = (
                await conn.execute(
                    text(
                        "SELECT delta_on_hand, delta_reserved, reason, actor FROM stock_movements "
                        "WHERE sku = :sku ORDER BY id"
                    ),
                    {"sku": code},
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in audit] == [(10, 0, "PO 1", "ops"), (-3, 0, "damaged", "unknown")]


async def test_adjust_stock_refuses_bad_input_unknown_things_and_taking_reserved_units(
    stub: Stub, service: ServiceProcess
) -> None:
    bad = await rpc_error(
        stub.AdjustStock(pb.AdjustStockRequest(sku="TEA-PUER-357G", warehouse="SH-01"))
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(bad)) == {"quantity", "reason"}
    for sku_code, warehouse in (("NO-SUCH-SKU", "SH-01"), ("TEA-PUER-357G", "XX-99")):
        missing = await rpc_error(
            stub.AdjustStock(
                pb.AdjustStockRequest(sku=sku_code, warehouse=warehouse, quantity=1, reason="r")
            )
        )
        assert missing.code() == grpc.StatusCode.NOT_FOUND

    code = f"KETTLE-{uuid.uuid4().hex[:8]}"
    await stub.CreateSku(pb.CreateSkuRequest(sku=sku(code)))
    await stub.AdjustStock(
        pb.AdjustStockRequest(sku=code, warehouse="BJ-01", quantity=5, reason="PO 2")
    )
    order_id = new_id()
    await send(
        service,
        pb.ReserveStockCommand(
            saga_id="s",
            order_id=order_id,
            region="Beijing",
            lines=[pb.ReserveLine(sku=code, quantity=4)],
        ),
    )

    async def reserved() -> bool:
        try:
            await stub.GetReservation(pb.GetReservationRequest(order_id=order_id))
        except grpc.aio.AioRpcError:
            return False
        return True

    await wait_until(reserved, 15, "the reservation")
    reservation = (
        await stub.GetReservation(pb.GetReservationRequest(order_id=order_id))
    ).reservation
    assert reservation.status == pb.RESERVATION_STATUS_HELD
    assert [(a.sku, a.warehouse, a.quantity) for a in reservation.allocations] == [
        (code, "BJ-01", 4)
    ]
    assert reservation.expires_at.ToDatetime() > reservation.created_at.ToDatetime()

    below_reserved = await rpc_error(
        stub.AdjustStock(
            pb.AdjustStockRequest(sku=code, warehouse="BJ-01", quantity=-2, reason="count")
        )
    )
    assert below_reserved.code() == grpc.StatusCode.FAILED_PRECONDITION
    stock = (await stub.GetStock(pb.GetStockRequest(sku=code))).stock
    assert (stock.on_hand, stock.reserved, stock.available) == (5, 4, 1)
    await stub.AdjustStock(
        pb.AdjustStockRequest(sku=code, warehouse="BJ-01", quantity=-1, reason="count")
    )
    stock = (await stub.GetStock(pb.GetStockRequest(sku=code))).stock
    assert (stock.on_hand, stock.reserved, stock.available) == (4, 4, 0)


async def test_list_stock_pages_through_every_sku_in_order(stub: Stub) -> None:
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListStock(pb.ListStockRequest(page_size=7, page_token=token))
        assert len(page.stocks) <= 7
        seen.extend(s.sku for s in page.stocks)
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    assert {s.sku for s in seed.SKUS} <= set(seen)
    bad = await rpc_error(stub.ListStock(pb.ListStockRequest(page_token="garbage")))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_get_reservation_of_an_unknown_order_is_not_found(stub: Stub) -> None:
    error = await rpc_error(stub.GetReservation(pb.GetReservationRequest(order_id=new_id())))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_metrics_endpoint_exports_inventory_metrics(service: ServiceProcess) -> None:
    async with httpx.AsyncClient() as client:
        body = (await client.get(service.metrics_url)).text
    assert "surge_inventory_reservations_held" in body
    assert "surge_inventory_reservations_expired_total" in body
