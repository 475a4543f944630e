"""What the order-store tests share: a migrated engine, units of work, a catalog of every SKU."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_order.domain.order import CatalogItem
from surge_order.service_layer import handlers
from surge_order.service_layer.unit_of_work import OrderUnitOfWork
from surge_platform.db import create_engine
from surge_platform.migrations import migrate, migrations_of

MIGRATIONS = migrations_of("surge_order")


class Catalog:
    """Every SKU exists, active, at 10.00 CNY and 100 g."""

    async def skus(self, codes: Iterable[str]) -> Mapping[str, CatalogItem]:
        return {c: CatalogItem(c, f"name {c}", 1_000, "CNY", 100, True) for c in codes}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(migrate, MIGRATIONS, database_url)
    # Room for the tests that run several replicas' sweeps at once.
    engine = create_engine(database_url, pool_size=8)
    yield engine
    await engine.dispose()


def uows(engine: AsyncEngine) -> handlers.UowFactory:
    return lambda: OrderUnitOfWork(engine)
