"""Finance over the whole system: an order's status events reach billing's ledger, so the
reconciliation, the sales report and the order export all see the order placed through HTTP."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.conftest import GatewayProcess
from tests.e2e.gateway.flows import key, new_sku, order_body, wait_for_status
from tests.support import wait_until

pytestmark = pytest.mark.e2e


async def test_an_unpaid_on_account_order_is_reconciled_reported_and_exported(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    sku = await new_sku(gateway)
    customer_id = gateway.system.unique("fin")
    customer = gateway.auth("customer", sub=customer_id)
    finance = gateway.auth("finance")
    body = order_body(sku, 3, payment_terms="on_account")
    placed = await http.post("/v1/orders", json=body, headers={**customer, **key()})
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["id"]
    await wait_for_status(http, order_id, customer, {"awaiting_shipment"})
    end = datetime.now(UTC) + timedelta(minutes=1)
    period = {"from": start.isoformat(), "to": end.isoformat()}

    late: dict[str, object] = {}

    async def flagged() -> bool:
        # 40 days on, the on-account invoice (due in 30) is unpaid past due.
        as_of = (end + timedelta(days=40)).isoformat()
        reply = await http.get(
            "/v1/reports/reconciliation", params={**period, "as_of": as_of}, headers=finance
        )
        assert reply.status_code == 200, reply.text
        late.update(next((m for m in reply.json()["mismatches"] if m["order_id"] == order_id), {}))
        return bool(late)

    await wait_until(flagged, 20, "the order's invoice to be reconciled as unpaid past due")
    assert late["kind"] == "unpaid_past_due"
    assert late["order_total"] == late["invoiced"] == {"amount_minor": 3000, "currency": "CNY"}
    assert late["order_status"] == "awaiting_shipment"

    sales = await http.get(
        "/v1/reports/sales", params={**period, "group_by": "customer"}, headers=finance
    )
    assert sales.status_code == 200, sales.text
    [row] = [r for r in sales.json()["rows"] if r["key"] == customer_id]
    assert (row["order_count"], row["gmv"]["amount_minor"], row["units"]) == (1, 3000, 3)

    export = await http.get(
        "/v1/exports/orders", params={"customer_id": customer_id}, headers=finance
    )
    assert export.status_code == 200, export.text
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["id"], r["total_minor"], r["payment_terms"]) for r in rows] == [
        (order_id, "3000", "on_account")
    ]
