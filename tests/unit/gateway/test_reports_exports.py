"""`/v1/reports/...` and `/v1/exports/...` at the HTTP edge: JSON and CSV shapes, what reaches the
services, and exports that read back to the rows sent (CSV and XLSX)."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2

from tests.unit.gateway.conftest import Gateway


async def test_reconciliation_as_json_and_as_a_csv_download(gw: Gateway) -> None:
    response = await gw.client.get(
        "/v1/reports/reconciliation",
        params={"from": "2026-03-01T00:00:00+08:00", "to": "2026-04-01T00:00:00+08:00"},
        headers=gw.auth("finance"),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["summary"]["mismatch_count"] == 1
    assert body["mismatches"][0]["kind"] == "paid_not_invoiced"
    assert body["mismatches"][0]["paid"] == {"amount_minor": 5000, "currency": "CNY"}
    [request] = gw.down.finance.requests
    assert request.period_start.ToJsonString() == "2026-02-28T16:00:00Z"
    assert not request.HasField("as_of")  # billing defaults it to the period end

    response = await gw.client.get(
        "/v1/reports/reconciliation", params={"format": "csv"}, headers=gw.auth("admin")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "reconciliation.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["kind"], r["order_id"], r["paid_minor"]) for r in rows] == [
        ("paid_not_invoiced", "order-9", "5000")
    ]


async def test_bad_report_parameters_are_422s_that_never_reach_a_service(gw: Gateway) -> None:
    response = await gw.client.get(
        "/v1/reports/reconciliation",
        params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        headers=gw.auth("finance"),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "to", "detail": "must be after from"}]
    assert gw.down.finance.requests == []
    response = await gw.client.get(
        "/v1/reports/sales", params={"group_by": "weather"}, headers=gw.auth("finance")
    )
    assert response.status_code == 422
    assert gw.down.reports.requests == []


async def test_aging_and_sales_reports(gw: Gateway) -> None:
    aging = await gw.client.get(
        "/v1/reports/aging", params={"as_of": "2026-06-30T00:00:00Z"}, headers=gw.auth("finance")
    )
    assert aging.json()["rows"][0]["days_over_90"]["amount_minor"] == 700
    sales = await gw.client.get(
        "/v1/reports/sales",
        params={"group_by": "channel", "format": "csv", "time_zone": "Asia/Shanghai"},
        headers=gw.auth("finance"),
    )
    rows = list(csv.reader(io.StringIO(sales.text)))
    assert rows[0][:4] == ["channel", "currency", "order_count", "gmv_minor"]
    assert [r[:4] for r in rows[1:]] == [
        ["pos", "CNY", "3", "3000"],
        ["web", "CNY", "1", "500"],
        ["total", "CNY", "4", "3500"],
    ]
    request = gw.down.reports.requests[-1]
    assert (request.group_by, request.time_zone) == (2, "Asia/Shanghai")


async def test_invoice_export_round_trips_through_csv_and_xlsx(gw: Gateway) -> None:
    gw.down.finance.invoices = 5  # three streamed chunks of two
    as_csv = await gw.client.get(
        "/v1/exports/invoices", params={"status": "paid"}, headers=gw.auth("finance")
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["number"] for r in rows] == [f"INV-2026-{n:06d}" for n in range(1, 6)]
    assert rows[2]["total_minor"] == "339"
    assert rows[0]["issued_at"] == "2026-01-01T00:00:01+00:00"
    assert rows[0]["customer_id"] == "'=cmd|calc"  # defused: not a formula in a spreadsheet
    assert gw.down.finance.requests[-1].status == 2  # INVOICE_STATUS_PAID

    as_xlsx = await gw.client.get(
        "/v1/exports/invoices", params={"format": "xlsx"}, headers=gw.auth("admin")
    )
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).worksheets[0]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0][:3] == ["id", "number", "order_id"]
    assert [(r[1], r[10]) for r in cells[1:]] == [
        (f"INV-2026-{n:06d}", 113 * n) for n in range(1, 6)
    ]


class PagedOrders:
    """ListOrders two orders per page, as the order service pages."""

    def __init__(self, count: int) -> None:
        self.requests: list[order_pb2.ListOrdersRequest] = []
        self.orders = [
            order_pb2.Order(
                id=f"o-{n}",
                channel="pos",
                customer=common_pb2.Customer(id=f"c-{n}"),
                status=order_pb2.ORDER_STATUS_COMPLETED,
                total=common_pb2.Money(amount_minor=100 * n, currency="CNY"),
                lines=[order_pb2.OrderLine(sku="TEA", quantity=n)],
            )
            for n in range(1, count + 1)
        ]

    async def ListOrders(self, request: order_pb2.ListOrdersRequest, timeout: float) -> object:  # noqa: N802
        copy = order_pb2.ListOrdersRequest()
        copy.CopyFrom(request)
        self.requests.append(copy)
        start = int(request.page_token or 0)
        token = str(start + 2) if start + 2 < len(self.orders) else ""
        return order_pb2.ListOrdersResponse(
            orders=self.orders[start : start + 2], next_page_token=token
        )


async def test_order_export_pages_through_every_order_with_the_filters(gw: Gateway) -> None:
    gw.down.orders = PagedOrders(5)
    response = await gw.client.get(
        "/v1/exports/orders",
        params={"status": "completed", "channel": "pos", "from": "2026-01-01T00:00:00Z"},
        headers=gw.auth("operator"),
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["id"], r["total_minor"], r["lines"]) for r in rows] == [
        (f"o-{n}", str(100 * n), f"TEA x{n} = 0") for n in range(1, 6)
    ]
    first = gw.down.orders.requests[0]
    assert (first.status, first.channel, first.page_size) == (8, "pos", 500)
    assert first.created_from.ToJsonString() == "2026-01-01T00:00:00Z"
    assert [r.page_token for r in gw.down.orders.requests] == ["", "2", "4"]
