"""The invariant checker: drain the system, then verify through the API what a run promised.

    uv run python -m loadtest.checker --manifest run/manifest.json --ledger run/ledger.jsonl

1. Drain: wait (up to `--drain-seconds`) until no saga of the run's orders has a step in flight
   (`GET /v1/admin/sagas?state=running`) and no order is in a transient status.
2. Verify, for every order of the run's SKUs (`GET /v1/orders` since the run began, plus every
   order id the clients were given):
   - none lost: every accepted order exists and is in a terminal or expected state; a payment or
     cancellation the API confirmed shows in the status;
   - at most one live shipment per warehouse and one live invoice per order; an order waiting
     for shipment has both, a cancelled order neither; no saga parked;
   - stock per SKU: on_hand = initial + restocked - dispatched, reserved = units of orders
     holding stock, available = on_hand - reserved, none negative;
   - flash sale: units sold = stock (or every unit asked for, if fewer), no customer above the
     purchase limit.
Any violation is listed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from loadtest.common import Manifest, Tokens, default_host, default_key_dir, read_ledger, say

__all__ = ["CheckResult", "check", "drain"]

TRANSIENT = {"reserving", "paid"}
HOLDING = {"reserving", "pending_payment", "paid", "awaiting_shipment", "pending_review"}
DISPATCHED = {"shipped", "delivered", "completed"}
SAGA_IN_FLIGHT = {"running", "compensating"}


@dataclass
class CheckResult:
    violations: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


class Api:
    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str], concurrency: int) -> None:
        self.http, self.headers = http, headers
        self.gate = asyncio.Semaphore(concurrency)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        async with self.gate:
            for attempt in range(5):
                try:
                    reply = await self.http.get(path, params=params, headers=self.headers)
                except httpx.TransportError:
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                if reply.status_code not in (429, 502, 503, 504):
                    return reply
                await asyncio.sleep(0.5 * (attempt + 1))
            return reply

    async def running_sagas(self) -> set[str]:
        reply = await self.get("/v1/admin/sagas", state="running", limit=1000)
        reply.raise_for_status()
        return {s["order_id"] for s in reply.json()["sagas"]}

    async def orders_since(self, since: float, skus: set[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {
            "created_from": datetime.fromtimestamp(since, UTC).isoformat(),
            "limit": 500,
        }
        while True:
            reply = await self.get("/v1/orders", **params)
            reply.raise_for_status()
            page = reply.json()
            for order in page["items"]:
                if any(line["sku"] in skus for line in order["lines"]):
                    found[order["id"]] = order
            if not page.get("next_cursor"):
                return found
            params["cursor"] = page["next_cursor"]


async def drain(api: Api, ours: set[str] | None, deadline: float) -> tuple[bool, float, int]:
    """Wait until none of `ours` (None: any) has a saga step in flight."""
    started = time.monotonic()
    left = 0
    while time.monotonic() - started < deadline:
        try:
            running = await api.running_sagas()
        except (httpx.HTTPError, KeyError, ValueError):
            await asyncio.sleep(1)
            continue
        left = len(running if ours is None else running & ours)
        if left == 0:
            return True, time.monotonic() - started, 0
        await asyncio.sleep(1)
    return False, time.monotonic() - started, left


def _live(items: list[dict[str, Any]], dead: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("status") != dead]


async def check(
    host: str,
    tokens: Tokens,
    manifest: Manifest,
    ledger: list[dict[str, Any]],
    *,
    drain_seconds: float = 120,
    concurrency: int = 16,
    restocked: dict[str, int] | None = None,
) -> CheckResult:
    result = CheckResult()
    accepted = {e["id"]: e for e in ledger if e["event"] == "accepted"}
    paid = {e["id"] for e in ledger if e["event"] == "paid"}
    cancelled = {e["id"] for e in ledger if e["event"] == "cancelled"}
    skus = set(manifest.skus)
    admin = tokens.header("admin", f"loadtest-checker-{manifest.run_id}")
    async with httpx.AsyncClient(base_url=host, timeout=30) as http:
        api = Api(http, admin, concurrency)
        drained, waited, left = await drain(api, set(accepted) or None, drain_seconds)
        result.stats["drain_seconds"] = round(waited, 1)
        if not drained:
            result.violations.append(
                f"not drained after {drain_seconds:.0f}s: {left} sagas running"
            )
        orders = await api.orders_since(manifest.started_at - 5, skus)
        details: dict[str, dict[str, Any]] = {}
        invoices: dict[str, list[dict[str, Any]]] = {}

        async def load(order_id: str) -> None:
            reply = await api.get(f"/v1/orders/{order_id}")
            if reply.status_code == 404:
                return
            reply.raise_for_status()
            details[order_id] = reply.json()
            listed = await api.get("/v1/invoices", order_id=order_id, limit=50)
            listed.raise_for_status()
            invoices[order_id] = listed.json()["items"]

        await asyncio.gather(*(load(i) for i in set(orders) | set(accepted)))
        stock = {}
        for sku in sorted(skus):
            reply = await api.get(f"/v1/inventory/stock/{sku}")
            reply.raise_for_status()
            stock[sku] = reply.json()

    statuses = Counter(d["status"] for d in details.values())
    result.stats.update(
        orders=len(details),
        accepted_by_clients=len(accepted),
        statuses=dict(statuses),
        compensated=sum(
            1 for d in details.values() if (d.get("saga") or {}).get("state") == "compensated"
        ),
        resent_steps=sum(
            1
            for d in details.values()
            for step in (d.get("saga") or {}).get("steps", [])
            if step.get("attempts", 0) > 1
        ),
    )
    v = result.violations
    for order_id, entry in accepted.items():
        if order_id not in details:
            v.append(f"lost: order {order_id} ({entry['kind']}) was accepted but does not exist")
    for order_id, d in details.items():
        status, saga = d["status"], d.get("saga") or {}
        if status in TRANSIENT or saga.get("state") in SAGA_IN_FLIGHT:
            v.append(f"stuck: order {order_id} is {status}, saga {saga.get('state')}")
        if saga.get("state") == "compensation_failed":
            v.append(f"parked: order {order_id} saga compensation_failed")
        if order_id in cancelled and status != "cancelled":
            v.append(f"cancel lost: order {order_id} was cancelled (200) but is {status}")
        if (
            order_id in paid
            and order_id not in cancelled
            and status in ("pending_payment", "cancelled")
        ):
            v.append(f"payment lost: order {order_id} was paid (200) but is {status}")
        shipments = _live(d.get("shipments", []), "cancelled")
        per_warehouse = Counter(s["warehouse"] for s in shipments)
        live_invoices = _live(invoices.get(order_id, []), "void")
        for warehouse, n in per_warehouse.items():
            if n > 1:
                v.append(f"double shipment: order {order_id} has {n} live in {warehouse}")
        if len(live_invoices) > 1:
            v.append(f"double invoice: order {order_id} has {len(live_invoices)} live invoices")
        settled = saga.get("state") not in SAGA_IN_FLIGHT
        if status == "cancelled" and settled and (shipments or live_invoices):
            v.append(f"not compensated: cancelled order {order_id} keeps shipments/invoices")
        if status == "awaiting_shipment" and (not shipments or len(live_invoices) != 1):
            v.append(
                f"incomplete: order {order_id} awaits shipment with {len(shipments)} live "
                f"shipments and {len(live_invoices)} live invoices"
            )
    _check_stock(result, manifest, details, stock, restocked or {})
    _check_flash(result, manifest, details)
    return result


def _units(details: dict[str, dict[str, Any]], sku: str, statuses: set[str]) -> int:
    return sum(
        line["quantity"]
        for d in details.values()
        if d["status"] in statuses
        for line in d["lines"]
        if line["sku"] == sku
    )


def _check_stock(
    result: CheckResult,
    manifest: Manifest,
    details: dict[str, dict[str, Any]],
    stock: dict[str, dict[str, Any]],
    restocked: dict[str, int],
) -> None:
    v = result.violations
    for sku, initial in manifest.skus.items():
        s = stock[sku]
        holding = _units(details, sku, HOLDING)
        dispatched = _units(details, sku, DISPATCHED)
        on_hand = initial + restocked.get(sku, 0) - dispatched
        expected = {"on_hand": on_hand, "reserved": holding, "available": on_hand - holding}
        for key, want in expected.items():
            if s[key] != want:
                v.append(f"stock: {sku} {key} is {s[key]}, expected {want}")
            if s[key] < 0:
                v.append(f"stock: {sku} {key} is negative ({s[key]})")
        if s["on_hand"] != s["reserved"] + s["available"]:
            v.append(f"stock: {sku} on_hand {s['on_hand']} != reserved + available")
        for w in s.get("warehouses", []):
            if min(w["on_hand"], w["reserved"], w["available"]) < 0:
                v.append(f"stock: {sku} in {w['warehouse']} went negative: {w}")


def _settle_max(orders: list[dict[str, Any]]) -> float | None:
    """Longest time from placement to an order's last status change (its settled state)."""
    spans = []
    for d in orders:
        times = [c["at"] for c in d.get("history", []) if c.get("at")]
        if d.get("created_at") and times:
            created = datetime.fromisoformat(d["created_at"])
            spans.append((datetime.fromisoformat(max(times)) - created).total_seconds())
    return round(max(spans), 1) if spans else None


def _check_flash(
    result: CheckResult, manifest: Manifest, details: dict[str, dict[str, Any]]
) -> None:
    sku = manifest.flash_sku
    if sku is None:
        return
    flash = [d for d in details.values() if any(line["sku"] == sku for line in d["lines"])]
    if not flash:
        return
    sold = _units(details, sku, HOLDING | DISPATCHED)
    asked = _units(details, sku, HOLDING | DISPATCHED | {"cancelled"})
    result.stats["flash"] = {
        "orders": len(flash),
        "sold": sold,
        "stock": manifest.flash_stock,
        "settle_seconds_max": _settle_max(flash),
    }
    if sold != min(manifest.flash_stock, asked):
        result.violations.append(
            f"flash sale: sold {sold} units of {sku}, stock {manifest.flash_stock}, asked {asked}"
        )
    per_customer: dict[str, int] = defaultdict(int)
    for d in flash:
        if d["status"] in HOLDING | DISPATCHED:
            per_customer[d["customer"]["id"]] += sum(
                line["quantity"] for line in d["lines"] if line["sku"] == sku
            )
    over = {c: n for c, n in per_customer.items() if n > manifest.flash_limit}
    if over:
        sample = ", ".join(f"{c}={n}" for c, n in sorted(over.items())[:5])
        result.violations.append(
            f"purchase limit {manifest.flash_limit}: {len(over)} customers above it ({sample})"
            + ("" if manifest.flash_limit_enforced else "; the limit API was not available")
        )


def report(result: CheckResult) -> str:
    lines = [f"invariants: {'OK' if result.ok else f'{len(result.violations)} VIOLATIONS'}"]
    lines += [f"  {k}: {v}" for k, v in result.stats.items()]
    shown = result.violations[:50]
    lines += [f"  VIOLATION {item}" for item in shown]
    if len(result.violations) > len(shown):
        lines.append(f"  ... and {len(result.violations) - len(shown)} more")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=default_host())
    parser.add_argument("--token", default=None, help="admin token (default: mint with --key-dir)")
    parser.add_argument("--key-dir", type=Path, default=default_key_dir())
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--drain-seconds", type=float, default=120)
    args = parser.parse_args()
    tokens = Tokens(None if args.token else args.key_dir, args.token)
    result = asyncio.run(
        check(
            args.host,
            tokens,
            Manifest.load(args.manifest),
            read_ledger(args.ledger),
            drain_seconds=args.drain_seconds,
        )
    )
    say(report(result))
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
