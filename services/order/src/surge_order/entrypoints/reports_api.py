"""ReportService over gRPC: request -> sales report -> response."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.order.v1 import reports_pb2, reports_pb2_grpc
from surge_platform import errors

from surge_order.service_layer import reports
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["ReportServicer"]

Context = grpc.aio.ServicerContext[Any, Any]

_GROUPING = {
    reports_pb2.SALES_GROUPING_DAY: reports.Grouping.DAY,
    reports_pb2.SALES_GROUPING_CHANNEL: reports.Grouping.CHANNEL,
    reports_pb2.SALES_GROUPING_SKU: reports.Grouping.SKU,
    reports_pb2.SALES_GROUPING_CUSTOMER: reports.Grouping.CUSTOMER,
}


class ReportServicer(reports_pb2_grpc.ReportServiceServicer):
    def __init__(self, uow_factory: Callable[[], OrderUnitOfWork]) -> None:
        self._uow = uow_factory

    async def GetSalesReport(  # noqa: N802 - gRPC method names
        self, request: reports_pb2.GetSalesReportRequest, context: Context
    ) -> reports_pb2.GetSalesReportResponse:
        problems: dict[str, str] = {}
        grouping = _GROUPING.get(request.group_by)
        if grouping is None:
            problems["group_by"] = "must be DAY, CHANNEL, SKU or CUSTOMER"
        for name in ("period_start", "period_end"):
            if not request.HasField(name):
                problems[name] = "is required"
        if problems or grouping is None:
            raise errors.InvalidArgument("invalid sales report request", problems)
        report = await reports.sales_report(
            self._uow(),
            grouping=grouping,
            start=_at(request.period_start),
            end=_at(request.period_end),
            time_zone=request.time_zone,
            channel=request.channel,
            currency=request.currency,
        )
        return reports_pb2.GetSalesReportResponse(
            rows=[_row(r) for r in report.rows], total=_row(report.total)
        )


def _at(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def _row(row: reports.SalesRow) -> reports_pb2.SalesRow:
    def money(amount: int) -> common_pb2.Money:
        return common_pb2.Money(amount_minor=amount, currency=row.currency)

    return reports_pb2.SalesRow(
        key=row.key,
        order_count=row.order_count,
        gmv=money(row.gmv_minor),
        average_order_value=money(row.average_minor),
        refunds=money(row.refunds_minor),
        units=row.units,
    )
