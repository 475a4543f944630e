"""The demo catalog and stock that `make up` loads (`surge-inventory seed`).

Idempotent: warehouses, SKUs and stock rows are created only when missing, so running it again
never resets stock that orders have since moved. Prices are CNY in fen.
"""

from __future__ import annotations

from dataclasses import dataclass

from surge_platform.db import create_engine

from surge_inventory.domain.model import Sku, Warehouse
from surge_inventory.service_layer.unit_of_work import InventoryUnitOfWork

__all__ = ["FLASH_SKU", "SKUS", "STOCK", "WAREHOUSES", "SeedSummary", "seed"]

WAREHOUSES = (
    Warehouse("SH-01", "Shanghai Qingpu DC", "Shanghai"),
    Warehouse("HZ-01", "Hangzhou Xiaoshan DC", "Zhejiang"),
    Warehouse("GZ-01", "Guangzhou Baiyun DC", "Guangdong"),
    Warehouse("BJ-01", "Beijing Daxing DC", "Beijing"),
)


def _sku(code: str, name: str, fen: int, grams: int, category: str) -> Sku:
    return Sku(code, name, fen, "CNY", grams, category, active=True)


# The flash-sale SKU: exactly 100 units, all in SH-01, for oversell tests and demos.
FLASH_SKU = "FLASH-001"

SKUS = (
    _sku("TEA-LONGJING-250G", "West Lake Longjing green tea 250 g", 16_800, 300, "tea"),
    _sku("TEA-PUER-357G", "Yunnan Pu'er cake 357 g", 29_800, 420, "tea"),
    _sku("TEA-TIEGUANYIN-125G", "Anxi Tieguanyin oolong 125 g", 8_800, 160, "tea"),
    _sku("SNACK-MOONCAKE-6", "Cantonese mooncakes, box of 6", 12_800, 900, "food"),
    _sku("SNACK-JERKY-200G", "Spicy beef jerky 200 g", 3_990, 230, "food"),
    _sku("RICE-WUCHANG-5KG", "Wuchang rice 5 kg", 6_990, 5_100, "food"),
    _sku("SAUCE-LAOGANMA-280G", "Chili crisp 280 g", 1_050, 400, "food"),
    _sku("PHONE-CASE-01", "Silicone phone case", 3_900, 60, "electronics"),
    _sku("CHARGER-65W", "65 W GaN USB-C charger", 14_900, 150, "electronics"),
    _sku("EARBUDS-TWS-02", "Wireless earbuds", 29_900, 120, "electronics"),
    _sku("POWERBANK-20K", "20,000 mAh power bank", 15_900, 430, "electronics"),
    _sku("TSHIRT-COTTON-M", "Cotton T-shirt, size M", 7_900, 220, "apparel"),
    _sku("JACKET-DOWN-L", "Down jacket, size L", 59_900, 1_100, "apparel"),
    _sku("SNEAKER-RUN-42", "Running shoes, EU 42", 49_900, 850, "apparel"),
    _sku("CREAM-FACE-50ML", "Moisturising face cream 50 ml", 26_800, 180, "beauty"),
    _sku("MASK-SHEET-10", "Hydrating sheet masks, pack of 10", 9_900, 300, "beauty"),
    _sku("KETTLE-1L7", "Electric kettle 1.7 l", 19_900, 1_300, "home"),
    _sku("PILLOW-LATEX", "Latex pillow", 25_900, 1_600, "home"),
    _sku("TOWEL-SET-3", "Cotton towel set of 3", 8_900, 700, "home"),
    _sku("BOOK-3BODY", "The Three-Body Problem (paperback)", 2_380, 450, "books"),
    _sku(FLASH_SKU, "Flash sale: limited-edition tea set", 9_900, 1_200, "flash-sale"),
    _sku("BENCH-001", "Benchmark widget (bottomless stock)", 1_000, 100, "bench"),
)

_WAREHOUSE_CODES = tuple(w.code for w in WAREHOUSES)

# (sku, warehouse, units). Regular SKUs: stock everywhere, more in the bigger DCs.
STOCK: tuple[tuple[str, str, int], ...] = (
    *(
        (sku.sku, code, units)
        for sku in SKUS
        if sku.category not in {"flash-sale", "bench"}
        for code, units in zip(_WAREHOUSE_CODES, (500, 300, 400, 200), strict=True)
    ),
    (FLASH_SKU, "SH-01", 100),
    *(("BENCH-001", code, 1_000_000) for code in _WAREHOUSE_CODES),
)


@dataclass(frozen=True)
class SeedSummary:
    warehouses: int
    skus: int
    stock_rows: int

    def __str__(self) -> str:
        return (
            f"seeded: {self.warehouses} warehouses, {self.skus} SKUs, "
            f"{self.stock_rows} stock rows created (existing rows left as they were)"
        )


async def seed(database_url: str) -> SeedSummary:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with InventoryUnitOfWork(engine) as uow:
            warehouses = sum([await uow.catalog.add_warehouse(w) for w in WAREHOUSES])
            skus = sum([await uow.catalog.add(s) for s in SKUS])
            rows = sum([await uow.stock.seed(s, w, n) for s, w, n in STOCK])
            await uow.commit()
    finally:
        await engine.dispose()
    return SeedSummary(warehouses, skus, rows)
