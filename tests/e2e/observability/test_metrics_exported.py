"""Every metric named in a dashboard panel or a rule is really exported by a running Surge.

Drives a few orders through the real gateway (one completes its saga, one fails at the shipment
step and compensates, one POST is replayed by its Idempotency-Key), then scrapes `/metrics` of
the gateway and of the four gRPC services and compares.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import GatewayProcess
from tests.e2e.gateway.flows import key, new_sku, order_body, wait_for_status
from tests.e2e.observability.promql import (
    SYNTHETIC,
    Exposition,
    all_queries,
    parse_exposition,
)
from tests.support import wait_until

pytestmark = pytest.mark.e2e

SERVICES = ("order", "inventory", "fulfillment", "billing")


async def _scrape(http: httpx.AsyncClient, gateway: GatewayProcess) -> dict[str, Exposition]:
    urls = {name: gateway.system.services[name].metrics_url for name in SERVICES}
    urls["gateway"] = f"{gateway.base_url}/metrics"
    scraped = {}
    for name, url in urls.items():
        response = await http.get(url)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        scraped[name] = parse_exposition(response.text)
    return scraped


def _value(exposed: Exposition, name: str, **labels: str) -> float:
    return sum(
        value
        for sample_labels, value in exposed.samples.get(name, [])
        if all(sample_labels.get(k) == v for k, v in labels.items())
    )


async def _drive_orders(gateway: GatewayProcess, http: httpx.AsyncClient) -> None:
    customer = gateway.auth("customer", sub=gateway.system.unique("obs"))
    good = await new_sku(gateway)
    failing = gateway.system.unique("FAIL-SHIP")
    await gateway.system.create_sku(failing, {"HZ-01": 10})

    placed = []
    for sku in (good, failing):
        idempotency = key()
        body = order_body(sku, 1)
        response = await http.post("/v1/orders", json=body, headers={**customer, **idempotency})
        assert response.status_code == 202, response.text
        placed.append(response.json())
        if sku == good:  # the same key and body again: replayed, not a second order
            again = await http.post("/v1/orders", json=body, headers={**customer, **idempotency})
            assert again.json()["id"] == response.json()["id"]
    for order in placed:
        await wait_for_status(http, order["id"], customer, {"pending_payment"})
        paid = await http.post(
            f"/v1/orders/{order['id']}/payments",
            json={"amount": order["total"], "method": "alipay", "reference": f"A-{order['id']}"},
            headers={**customer, **key()},
        )
        assert paid.status_code == 200, paid.text
    await wait_for_status(http, placed[0]["id"], customer, {"awaiting_shipment"})
    await wait_for_status(http, placed[1]["id"], customer, {"cancelled"})


async def test_every_metric_in_dashboards_and_rules_is_exported(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    await _drive_orders(gateway, http)
    scraped: dict[str, Exposition] = {}

    async def business_metrics_recorded() -> bool:
        scraped.update(await _scrape(http, gateway))
        order, inventory = scraped["order"], scraped["inventory"]
        return (
            _value(order, "surge_order_orders_placed_total", channel="web") >= 2
            and _value(order, "surge_order_saga_compensations_total") >= 1
            and _value(order, "surge_order_saga_step_duration_seconds_count", outcome="failed") >= 1
            and _value(inventory, "surge_inventory_reservations_total", outcome="reserved") >= 2
        )

    await wait_until(business_metrics_recorded, 30, "the saga's metrics after the orders")

    exported = set().union(*(e.series_names for e in scraped.values())) | SYNTHETIC
    queries = all_queries()
    assert len(queries) > 50
    missing = [
        f"{q.where}: {sorted(n for n in q.names if n not in exported)}"
        for q in queries
        if any(":" not in n and n not in exported for n in q.names)
    ]
    assert not missing, "metrics used but not exported:\n" + "\n".join(missing)

    # What the dashboards plot really moves when orders flow.
    gw = scraped["gateway"]
    assert _value(gw, "surge_gateway_orders_accepted_total", channel="web") >= 2
    assert _value(gw, "surge_gateway_idempotent_replays_total") >= 1
    assert _value(gw, "surge_gateway_http_requests_total", route="/v1/orders", status="202") >= 2
    assert _value(scraped["fulfillment"], "surge_fulfillment_shipments_created_total") >= 1
    assert _value(scraped["billing"], "surge_billing_invoices_issued_total") >= 1
    for name, exposed in scraped.items():
        assert _value(exposed, "process_cpu_seconds_total") > 0, name
        assert _value(exposed, "process_resident_memory_bytes") > 0, name
    for name in SERVICES:
        assert _value(scraped[name], "surge_grpc_server_requests_total") > 0, name
    # Gauges refreshed by the platform's periodic collector, not on scrape: every service reports
    # its DLQ depth per consumer; inventory the stock of its lowest SKUs; order its live sagas.
    for name in SERVICES:
        assert scraped[name].samples.get("surge_dead_letter_messages"), name
    stock = scraped["inventory"].samples["surge_inventory_stock_available_units"]
    assert stock
    assert all(labels.keys() == {"sku"} and value >= 0 for labels, value in stock)
    assert "surge_order_in_flight_sagas" in scraped["order"].series_names
    assert "surge_order_parked_sagas" in scraped["order"].series_names
    # Rate-limited and shed requests are exported before the first one happens.
    assert {"surge_gateway_rate_limited_total", "surge_gateway_shed_total"} <= gw.series_names
