"""A run's set-up through the API: catalog SKUs with stock, the flash-sale SKU and its purchase
limit, and a Tmall channel key. Returns the manifest the users and the checker read.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import httpx

from loadtest.common import Manifest, Tokens

__all__ = ["channel_key_from_stack", "prepare"]

SHOP_SKUS = 6
SHOP_STOCK = 200_000


def _adjust(
    http: httpx.Client, admin: dict[str, str], sku: str, warehouse: str, units: int
) -> None:
    http.post(
        "/v1/inventory/adjustments",
        json={"sku": sku, "warehouse": warehouse, "quantity": units, "reason": "loadtest stock"},
        headers={**admin, "Idempotency-Key": uuid.uuid4().hex},
    ).raise_for_status()


def _create_sku(http: httpx.Client, admin: dict[str, str], sku: str, price: int) -> None:
    http.post(
        "/v1/inventory/skus",
        json={
            "sku": sku,
            "name": f"Load {sku}",
            "unit_price": price,
            "weight_grams": 300,
            "category": "loadtest",
        },
        headers={**admin, "Idempotency-Key": uuid.uuid4().hex},
    ).raise_for_status()


def channel_key_from_stack(state_dir: Path, channel: str = "tmall") -> str | None:
    """Create (rotate) the channel's API key with `surge-gateway channel-key` on a local stack."""
    env_file = state_dir / "services.env"
    if not env_file.exists():
        return None
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    done = subprocess.run(
        ["surge-gateway", "channel-key", channel],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    return lines[-1].strip() if done.returncode == 0 and lines else None


def prepare(
    host: str,
    tokens: Tokens,
    *,
    flash_stock: int = 100,
    flash_limit: int = 2,
    channel_keys: dict[str, str] | None = None,
) -> Manifest:
    run_id = uuid.uuid4().hex[:8]
    manifest = Manifest(run_id=run_id, started_at=time.time(), channel_keys=channel_keys or {})
    admin = tokens.header("admin", f"loadtest-{run_id}")
    with httpx.Client(base_url=host, timeout=30) as http:
        warehouses = [w["code"] for w in http.get("/v1/warehouses", headers=admin).json()["items"]]
        for n in range(SHOP_SKUS):
            sku = f"LT-{run_id.upper()}-{n}"
            _create_sku(http, admin, sku, 1_000 + 100 * n)
            # Half the SKUs are split over two warehouses: orders then ship in two parcels.
            homes = warehouses[n % len(warehouses) :][:1] if n % 2 else warehouses[:2]
            for warehouse in homes:
                _adjust(http, admin, sku, warehouse, SHOP_STOCK // len(homes))
            manifest.skus[sku] = SHOP_STOCK // len(homes) * len(homes)
            manifest.shop_skus.append(sku)
        flash = f"LT-{run_id.upper()}-FLASH"
        _create_sku(http, admin, flash, 9_900)
        _adjust(http, admin, flash, warehouses[0], flash_stock)
        manifest.skus[flash] = flash_stock
        manifest.flash_sku, manifest.flash_stock, manifest.flash_limit = (
            flash,
            flash_stock,
            flash_limit,
        )
        limited = http.put(
            f"/v1/purchase-limits/{flash}", json={"max_quantity": flash_limit}, headers=admin
        )
        manifest.flash_limit_enforced = limited.status_code < 300
    return manifest
