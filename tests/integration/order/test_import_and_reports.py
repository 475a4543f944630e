"""Order import (CSV and .xlsx, dry run and real, idempotent) and sales reports, on a real
order database."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from openpyxl import Workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.order.v1 import reports_pb2
from surge_order.adapters.import_files import file_digest, read_rows
from surge_order.adapters.import_repository import ImportRepository
from surge_order.entrypoints import import_cli
from surge_order.entrypoints.reports_api import ReportServicer
from surge_order.service_layer.order_import import import_rows
from surge_order.service_layer.unit_of_work import OrderUnitOfWork
from surge_platform import errors
from surge_platform.db import create_engine
from surge_platform.migrations import migrate, migrations_of

pytestmark = pytest.mark.integration

HEADER = [
    "order_ref",
    "channel",
    "placed_at",
    "customer_id",
    "sku",
    "quantity",
    "unit_price",
    "line_discount",
    "currency",
    "status",
]
# Six orders (A has two lines), 2026-03-01 and 2026-03-02 in Shanghai time.
GOOD = [
    ["A", "pos", "2026-03-01T10:00:00+08:00", "c1", "TEA", "2", "10.00", "1.00", "CNY", ""],
    ["A", "pos", "2026-03-01T10:00:00+08:00", "c1", "CUP", "1", "5.50", "", "CNY", ""],
    ["B", "pos", "2026-03-01T23:30:00+08:00", "c2", "TEA", "1", "10.00", "", "CNY", ""],
    ["", "web", "2026-03-02T01:00:00+08:00", "c1", "TEA", "3", "10.00", "", "CNY", "delivered"],
    ["", "web", "2026-03-02T02:00:00+08:00", "c3", "CUP", "4", "5.00", "", "CNY", ""],
    ["C", "web", "2026-03-02T03:00:00+08:00", "c3", "TEA", "1", "10.00", "", "CNY", "cancelled"],
    ["D", "pos", "2026-03-02T04:00:00+08:00", "c2", "CUP", "1", "0.01", "", "CNY", ""],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        # Numbers as numbers, the way a spreadsheet stores them.
        sheet.append([int(v) if i == 5 else float(v) if i == 6 else v for i, v in enumerate(row)])
    book.save(path)
    return path


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(migrate, migrations_of("surge_order"), database_url)
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def run_import(
    engine: AsyncEngine | None, path: Path, *, dry_run: bool = False
) -> dict[str, object]:
    sink = None if dry_run or engine is None else ImportRepository(engine, path.name).record
    report = await import_rows(read_rows(path), digest=file_digest(path), sink=sink, batch_size=2)
    return report.as_dict()


async def test_dry_run_reports_every_error_by_row_and_column(tmp_path: Path) -> None:
    rows = [
        *GOOD[:2],
        ["E", "pos", "2026-03-01T10:00:00+08:00", "c1", "TEA", "0", "10.00", "", "CNY", ""],
        ["F", "POS!", "yesterday", "", "TEA", "x", "1.005", "", "cny", "lost"],
        ["G", "pos", "2026-03-01T10:00:00+08:00", "c1", "TEA", "1", "10.00", "", "CNY", ""],
        ["G", "pos", "2026-03-01T10:00:00+08:00", "c9", "CUP", "1", "10.00", "", "CNY", ""],
        ["A", "pos", "2026-03-01T10:00:00+08:00", "c1", "JAM", "1", "1.00", "", "CNY", ""],
        ["", "pos", "2099-01-01T00:00:00+00:00", "c1", "TEA", "1", "1.00", "2.00", "CNY", ""],
    ]
    report = await run_import(None, write_csv(tmp_path / "bad.csv", rows), dry_run=True)
    assert report["errors"] == [
        {"row": 4, "column": "quantity", "error": "must be between 1 and 10000"},
        {"row": 5, "column": "customer_id", "error": "is required"},
        {
            "row": 5,
            "column": "channel",
            "error": "lower-case letters, digits, '-' or '_', at most 32",
        },
        {"row": 5, "column": "quantity", "error": "must be a whole number"},
        {"row": 5, "column": "unit_price", "error": "at most two decimals"},
        {"row": 5, "column": "currency", "error": "must be an ISO 4217 code like CNY"},
        {"row": 5, "column": "status", "error": "must be one of delivered, completed, cancelled"},
        {
            "row": 5,
            "column": "placed_at",
            "error": "must be an ISO 8601 time like 2026-11-11T09:30:00+08:00",
        },
        {"row": 7, "column": "customer_id", "error": "differs from row 6 of the same order"},
        {"row": 8, "column": "order_ref", "error": "lines of one order must be adjacent"},
        {"row": 9, "column": "line_discount", "error": "must not exceed quantity x unit_price"},
        {"row": 9, "column": "placed_at", "error": "must not be in the future"},
    ]
    assert (report["rows"], report["orders"], report["valid_orders"]) == (8, 6, 1)
    assert report["invalid_rows"] == 5


async def test_import_is_idempotent_and_xlsx_matches_csv(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    first = await run_import(engine, write_csv(tmp_path / "orders.csv", GOOD))
    assert (first["orders"], first["created"], first["existing"]) == (6, 6, 0)
    again = await run_import(engine, tmp_path / "orders.csv")
    assert (again["created"], again["existing"]) == (0, 6)
    # The same orders typed into a spreadsheet: A-D are the same orders (channel + order_ref);
    # the two rows without a reference are keyed by file and row, so they are new here.
    sheet = await run_import(engine, write_xlsx(tmp_path / "orders.xlsx", GOOD))
    assert (sheet["created"], sheet["existing"], sheet["invalid_rows"]) == (2, 4, 0)
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM orders"))).scalar()
        a = (
            await conn.execute(
                text(
                    "SELECT total_minor, status, external_id, jsonb_array_length(lines) AS n "
                    "FROM orders WHERE client_order_id = 'import:A'"
                )
            )
        ).one()
        history = (await conn.execute(text("SELECT count(*) FROM order_status_history"))).scalar()
    assert count == 8
    assert history == 8
    assert (a.total_minor, a.status, a.external_id, a.n) == (2_450, "completed", "A", 2)


def test_cli_dry_run_prints_a_report_and_fails_on_bad_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [
        GOOD[0],
        ["Z", "pos", "2026-03-01T10:00:00+08:00", "c1", "TEA", "99999", "1", "", "CNY", ""],
    ]
    assert import_cli.main([str(write_csv(tmp_path / "x.csv", bad)), "--dry-run"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == [
        {"row": 3, "column": "quantity", "error": "must be between 1 and 10000"}
    ]
    assert import_cli.main([str(tmp_path / "x.txt"), "--dry-run"]) == 2


def stamp(at: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(at)
    return result


async def sales(
    engine: AsyncEngine, grouping: int, **extra: str
) -> reports_pb2.GetSalesReportResponse:
    request = reports_pb2.GetSalesReportRequest(
        period_start=stamp(datetime(2026, 2, 28, 16, tzinfo=UTC)),  # 03-01 00:00 Shanghai
        period_end=stamp(datetime(2026, 3, 2, 16, tzinfo=UTC)),
        group_by=grouping,  # type: ignore[arg-type]
        **extra,
    )
    servicer = ReportServicer(lambda: OrderUnitOfWork(engine))
    return await servicer.GetSalesReport(request, None)  # type: ignore[arg-type]


def table(reply: reports_pb2.GetSalesReportResponse) -> dict[str, tuple[int, int, int, int]]:
    return {
        r.key: (r.order_count, r.gmv.amount_minor, r.average_order_value.amount_minor, r.units)
        for r in reply.rows
    }


async def test_sales_report_sums_by_day_channel_sku_and_customer(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await run_import(engine, write_csv(tmp_path / "orders.csv", GOOD))
    # Order A got half its tea refunded through a return; another return is only requested.
    async with engine.begin() as conn:
        for state, amount in (("refunded", 950), ("requested", 550)):
            sku = "TEA" if state == "refunded" else "CUP"
            await conn.execute(
                text(
                    "INSERT INTO returns (id, order_id, customer_id, kind, state, reason, "
                    "currency, amount_minor, lines, requested_by, requested_at, updated_at) "
                    "SELECT gen_random_uuid(), id, customer_id, 'return', :state, 'broken', "
                    "'CNY', :amount, CAST(:lines AS jsonb), 'c1', now(), now() "
                    "FROM orders WHERE client_order_id = 'import:A'"
                ),
                {
                    "state": state,
                    "amount": amount,
                    "lines": json.dumps([{"sku": sku, "quantity": 1, "amount_minor": amount}]),
                },
            )
    # Sold (C is cancelled): A 2450, B 1000, web-c1 3000, web-c3 2000, D 1.
    by_day = await sales(engine, reports_pb2.SALES_GROUPING_DAY, time_zone="Asia/Shanghai")
    assert table(by_day) == {
        "2026-03-01": (2, 3_450, 1_725, 4),
        "2026-03-02": (3, 5_001, 1_667, 8),
    }
    assert (by_day.total.order_count, by_day.total.gmv.amount_minor) == (5, 8_451)
    assert [r.refunds.amount_minor for r in by_day.rows] == [950, 0]
    assert by_day.total.refunds.amount_minor == 950
    assert by_day.total.average_order_value.amount_minor == 1_690  # 1690.2 rounds down
    assert table(await sales(engine, reports_pb2.SALES_GROUPING_CHANNEL)) == {
        "pos": (3, 3_451, 1_150, 5),
        "web": (2, 5_000, 2_500, 7),
    }
    by_sku = await sales(engine, reports_pb2.SALES_GROUPING_SKU)
    assert table(by_sku) == {
        "CUP": (3, 550 + 2_000 + 1, 850, 6),
        "TEA": (3, 1_900 + 1_000 + 3_000, 1_967, 6),
    }
    assert {r.key: r.refunds.amount_minor for r in by_sku.rows} == {"CUP": 0, "TEA": 950}
    assert table(await sales(engine, reports_pb2.SALES_GROUPING_CUSTOMER, channel="pos")) == {
        "c1": (1, 2_450, 2_450, 3),
        "c2": (2, 1_001, 501, 2),
    }
    with pytest.raises(errors.InvalidArgument) as raised:
        await sales(engine, reports_pb2.SALES_GROUPING_DAY, time_zone="Mars/Olympus")
    assert "time_zone" in raised.value.field_violations
    with pytest.raises(errors.InvalidArgument) as raised:
        await sales(engine, reports_pb2.SALES_GROUPING_UNSPECIFIED)
    assert "group_by" in raised.value.field_violations
