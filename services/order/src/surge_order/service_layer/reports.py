"""Sales reports: GMV, order count, average order value, units and refunds per group.

The sums are done by PostgreSQL (`adapters/reports_repository.py`); this module validates the
request and derives what is not a sum (the average, half up to the minor unit).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from surge_platform import errors

from surge_order.adapters.reports_repository import Grouping, SalesAggregate
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = ["Grouping", "SalesReport", "SalesRow", "average_minor", "sales_report"]


@dataclass(frozen=True)
class SalesRow:
    key: str
    currency: str
    order_count: int
    gmv_minor: int
    average_minor: int
    units: int
    refunds_minor: int


@dataclass(frozen=True)
class SalesReport:
    currency: str
    rows: list[SalesRow]
    total: SalesRow


def average_minor(total_minor: int, count: int) -> int:
    """total / count rounded half up, in integers (money never goes through floats)."""
    return (2 * total_minor + count) // (2 * count) if count else 0


def _row(a: SalesAggregate) -> SalesRow:
    return SalesRow(
        key=a.key,
        currency=a.currency,
        order_count=a.order_count,
        gmv_minor=a.gmv_minor,
        average_minor=average_minor(a.gmv_minor, a.order_count),
        units=a.units,
        refunds_minor=a.refunds_minor,
    )


async def sales_report(
    uow: OrderUnitOfWork,
    *,
    grouping: Grouping,
    start: datetime,
    end: datetime,
    time_zone: str = "",
    channel: str = "",
    currency: str = "",
) -> SalesReport:
    time_zone = time_zone or "UTC"
    if end <= start:
        raise errors.InvalidArgument("empty period", {"period_end": "must be after period_start"})
    async with uow:
        if not await uow.reports.time_zone_exists(time_zone):
            raise errors.InvalidArgument(
                "unknown time zone", {"time_zone": f"{time_zone!r} is not an IANA time zone"}
            )
        sales = functools.partial(
            uow.reports.sales,
            start=start,
            end=end,
            time_zone=time_zone,
            channel=channel,
            currency=currency,
        )
        totals = await sales(grouping=None)
        currencies = sorted({t.currency for t in totals})
        if len(currencies) > 1:
            raise errors.InvalidArgument(
                "the period has sales in several currencies",
                {"currency": f"choose one of {', '.join(currencies)}"},
            )
        groups = await sales(grouping=grouping)
    chosen = currency or (currencies[0] if currencies else "")
    total = (
        _row(totals[0])
        if totals
        else SalesRow(
            "total", chosen, order_count=0, gmv_minor=0, average_minor=0, units=0, refunds_minor=0
        )
    )
    return SalesReport(currency=chosen, rows=[_row(g) for g in groups], total=total)
