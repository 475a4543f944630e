"""Generate Surge's Grafana dashboards as JSON (`python deploy/grafana/generate.py`).

The dashboards are data: this script builds them from small helpers so every panel has the same
datasource variable, units and layout, then writes the same files to `deploy/grafana/dashboards/`
(for people and Grafana provisioning) and to the Helm chart's `files/dashboards/` (rendered as
ConfigMaps for the Grafana sidecar). `--check` fails if either folder differs from the output,
which CI runs so that a hand edit of the JSON cannot drift from this script.

Metric names are the ones the services really export (`tests/e2e/observability` scrapes a running
system and fails on any name used here that is not exported). Labels: `job` is the scrape job
(one per service: `surge-order`, ..., `surge-gateway` locally and with the chart's
ServiceMonitors), `consumer` the JetStream durable, `step` the saga step.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = (
    ROOT / "deploy" / "grafana" / "dashboards",
    ROOT / "deploy" / "helm" / "surge" / "files" / "dashboards",
)
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
# gRPC codes that are the server's fault (client errors like NOT_FOUND are not in the budget).
GRPC_SERVER_ERRORS = "UNKNOWN|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS|UNIMPLEMENTED"
SERVICE_JOBS = (
    'label_values({__name__=~"surge_grpc_server_requests_total|surge_gateway_http_requests_total"}'
    ", job)"
)

Panel = dict[str, Any]
# Available units under which a watched SKU is "low": the threshold line on the Inventory
# dashboard and the SurgeStockBelowThreshold alert (deploy/prometheus/surge-alerts.yaml) agree.
STOCK_THRESHOLD = 10


class Layout:
    """Places panels left to right on a 24-column grid, wrapping to a new row."""

    def __init__(self) -> None:
        self.x = 0
        self.y = 0
        self.row_height = 0
        self.next_id = 1

    def place(self, panel: Panel, w: int, h: int) -> Panel:
        if self.x + w > 24:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel["id"] = self.next_id
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.next_id += 1
        self.x += w
        self.row_height = max(self.row_height, h)
        return panel

    def row(self, title: str) -> Panel:
        self.x, self.y = 0, self.y + self.row_height
        panel = {"type": "row", "title": title, "collapsed": False, "panels": []}
        self.row_height = 1
        return self.place(panel, 24, 1)


def target(expr: str, legend: str = "", ref: str = "A", fmt: str = "time_series") -> Panel:
    return {
        "datasource": DS,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "refId": ref,
        "format": fmt,
    }


def targets(*pairs: tuple[str, str]) -> list[Panel]:
    return [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def timeseries(title: str, unit: str, *pairs: tuple[str, str], stack: bool = False) -> Panel:
    custom: dict[str, Any] = {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    return {
        "type": "timeseries",
        "title": title,
        "datasource": DS,
        "fieldConfig": {"defaults": {"unit": unit, "custom": custom}, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": targets(*pairs),
    }


def stat(title: str, unit: str, expr: str, legend: str = "", thresholds: Any = None) -> Panel:
    steps = thresholds or [{"color": "green", "value": None}]
    return {
        "type": "stat",
        "title": title,
        "datasource": DS,
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "area",
            "textMode": "auto",
        },
        "targets": [target(expr, legend)],
    }


def with_threshold_line(panel: Panel, value: float) -> Panel:
    """Draw a red line at `value` (dashed) on a timeseries panel."""
    defaults = panel["fieldConfig"]["defaults"]
    defaults["thresholds"] = {
        "mode": "absolute",
        "steps": [{"color": "red", "value": None}, {"color": "green", "value": value}],
    }
    defaults["custom"]["thresholdsStyle"] = {"mode": "dashed"}
    return panel


def red_when_above(value: float) -> list[dict[str, Any]]:
    return [{"color": "green", "value": None}, {"color": "red", "value": value}]


def heatmap(title: str, expr: str) -> Panel:
    return {
        "type": "heatmap",
        "title": title,
        "datasource": DS,
        "fieldConfig": {"defaults": {"unit": "s"}, "overrides": []},
        "options": {
            "calculate": False,
            "yAxis": {"unit": "s"},
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "tooltip": {"show": True, "yHistogram": True},
        },
        "targets": [target(expr, "{{le}}", fmt="heatmap")],
    }


def quantiles(metric: str, selector: str, by: str = "") -> list[tuple[str, str]]:
    group = f"{by}, le" if by else "le"
    prefix = "{{" + by + "}} " if by else ""
    return [
        (
            f"histogram_quantile({q}, sum by ({group}) "
            f"(rate({metric}_bucket{{{selector}}}[{RATE}])))",
            f"{prefix}p{int(q * 100)}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def datasource_var() -> Panel:
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
    }


def query_var(name: str, query: str, *, multi: bool = True, include_all: bool = True) -> Panel:
    return {
        "name": name,
        "label": name,
        "type": "query",
        "datasource": DS,
        "query": {"query": query, "refId": f"{name}-query"},
        "definition": query,
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": include_all,
        "current": {},
        "hide": 0,
    }


def dashboard(uid: str, title: str, description: str, panels: list[Panel], *vars: Panel) -> Panel:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["surge"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [datasource_var(), *vars]},
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "tags": ["surge"],
                "title": "Surge",
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
            }
        ],
        "panels": panels,
    }


def overview() -> Panel:
    g = Layout()
    place = g.place
    posts = 'route="/v1/orders", method="POST"'
    panels = [
        g.row("Orders"),
        place(
            stat(
                "Orders placed / s",
                "reqps",
                f"sum(rate(surge_order_orders_placed_total[{RATE}]))",
            ),
            6,
            5,
        ),
        place(
            stat(
                "GMV in range (minor units)",
                "short",
                "sum by (currency) (increase(surge_order_gmv_minor_total[$__range]))",
                "{{currency}}",
            ),
            6,
            5,
        ),
        place(
            stat(
                "Gateway 5xx ratio",
                "percentunit",
                f'sum(rate(surge_gateway_http_requests_total{{status=~"5.."}}[{RATE}])) '
                f"/ sum(rate(surge_gateway_http_requests_total[{RATE}]))",
                thresholds=red_when_above(0.001),
            ),
            6,
            5,
        ),
        place(
            stat(
                "POST /v1/orders p99",
                "s",
                "histogram_quantile(0.99, sum by (le) "
                f"(rate(surge_gateway_http_request_duration_seconds_bucket{{{posts}}}[{RATE}])))",
                thresholds=red_when_above(1),
            ),
            6,
            5,
        ),
        place(
            timeseries(
                "Orders placed / s by channel",
                "reqps",
                (
                    f"sum by (channel) (rate(surge_order_orders_placed_total[{RATE}]))",
                    "{{channel}}",
                ),
                stack=True,
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Orders accepted at the gateway / s by channel",
                "reqps",
                (
                    "sum by (channel, possible_duplicate) "
                    f"(rate(surge_gateway_orders_accepted_total[{RATE}]))",
                    "{{channel}} dup={{possible_duplicate}}",
                ),
                stack=True,
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "GMV / s (minor units) by currency",
                "short",
                (
                    f"sum by (currency) (rate(surge_order_gmv_minor_total[{RATE}]))",
                    "{{currency}}",
                ),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Order status changes / s",
                "ops",
                (
                    f"sum by (to_status) (rate(surge_order_status_transitions_total[{RATE}]))",
                    "{{to_status}}",
                ),
                stack=True,
            ),
            12,
            8,
        ),
        g.row("Errors and latency"),
        place(
            timeseries(
                "Gateway responses / s by status",
                "reqps",
                (
                    f"sum by (status) (rate(surge_gateway_http_requests_total[{RATE}]))",
                    "{{status}}",
                ),
                stack=True,
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "gRPC server errors / s by service and code",
                "reqps",
                (
                    "sum by (job, code) (rate(surge_grpc_server_requests_total"
                    f'{{code=~"{GRPC_SERVER_ERRORS}"}}[{RATE}]))',
                    "{{job}} {{code}}",
                ),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "POST /v1/orders latency",
                "s",
                *quantiles("surge_gateway_http_request_duration_seconds", posts),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "gRPC p99 by service",
                "s",
                (
                    "histogram_quantile(0.99, sum by (job, le) "
                    f"(rate(surge_grpc_server_duration_seconds_bucket[{RATE}])))",
                    "{{job}}",
                ),
            ),
            12,
            8,
        ),
        g.row("Downstream"),
        place(
            timeseries(
                "Shipments / s",
                "ops",
                (
                    f"sum(rate(surge_fulfillment_shipments_created_total[{RATE}]))",
                    "created",
                ),
                (
                    f"sum(rate(surge_fulfillment_shipments_dispatched_total[{RATE}]))",
                    "dispatched",
                ),
                (
                    f"sum(rate(surge_fulfillment_shipments_delivered_total[{RATE}]))",
                    "delivered",
                ),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Invoices and payments / s",
                "ops",
                (f"sum(rate(surge_billing_invoices_issued_total[{RATE}]))", "issued"),
                (f"sum(rate(surge_billing_invoices_paid_total[{RATE}]))", "paid"),
                (f"sum(rate(surge_billing_payments_total[{RATE}]))", "payments"),
            ),
            12,
            8,
        ),
    ]
    return dashboard(
        "surge-overview",
        "Surge / Overview",
        "Orders per channel, GMV, errors and latency across the system.",
        panels,
    )


def saga() -> Panel:
    g = Layout()
    place = g.place
    step_duration = "surge_order_saga_step_duration_seconds"
    panels = [
        g.row("Parked and compensating"),
        place(
            stat(
                "Sagas parked now",
                "short",
                "max by (job) (surge_order_parked_sagas)",
                thresholds=red_when_above(0.5),
            ),
            6,
            5,
        ),
        place(
            stat("Sagas in flight now", "short", "max by (job) (surge_order_in_flight_sagas)"),
            6,
            5,
        ),
        place(
            timeseries(
                "Sagas parked and in flight",
                "short",
                ("max(surge_order_parked_sagas)", "parked (needs an operator)"),
                ("max(surge_order_in_flight_sagas)", "in flight"),
            ),
            12,
            5,
        ),
        place(
            stat(
                "Sagas parked in range",
                "short",
                "sum(increase(surge_order_sagas_parked_total[$__range]))",
                thresholds=red_when_above(0.5),
            ),
            6,
            5,
        ),
        place(
            stat(
                "Compensations in range",
                "short",
                "sum(increase(surge_order_saga_compensations_total[$__range]))",
                thresholds=red_when_above(0.5),
            ),
            6,
            5,
        ),
        place(
            stat(
                "Step commands resent in range",
                "short",
                "sum(increase(surge_order_saga_step_resends_total[$__range]))",
            ),
            6,
            5,
        ),
        place(
            stat(
                "Order event consumers pending",
                "short",
                'sum(surge_consumer_pending_messages{consumer=~"order-.*"})',
            ),
            6,
            5,
        ),
        place(
            timeseries(
                "Sagas parked per interval by step",
                "short",
                (
                    "sum by (step) (increase(surge_order_sagas_parked_total[$__rate_interval]))",
                    "{{step}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Compensations / s by failed step and reason",
                "ops",
                (
                    f"sum by (step, reason) (rate(surge_order_saga_compensations_total[{RATE}]))",
                    "{{step}} {{reason}}",
                ),
                stack=True,
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Step commands resent / s (deadline passed)",
                "ops",
                (
                    f"sum by (step) (rate(surge_order_saga_step_resends_total[{RATE}]))",
                    "{{step}}",
                ),
            ),
            8,
            8,
        ),
        g.row("Step latency"),
        {
            **place(
                heatmap(
                    "Step latency: $step",
                    f'sum by (le) (increase({step_duration}_bucket{{step=~"$step"}}[{RATE}]))',
                ),
                12,
                8,
            ),
            "repeat": "step",
            "repeatDirection": "h",
            "maxPerRow": 2,
        },
        g.row("Step latency quantiles and outcomes"),
        place(
            timeseries(
                "Step p95 by step",
                "s",
                (
                    "histogram_quantile(0.95, sum by (step, le) "
                    f'(rate({step_duration}_bucket{{step=~"$step"}}[{RATE}])))',
                    "{{step}}",
                ),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Step outcomes / s",
                "ops",
                (
                    "sum by (step, outcome) "
                    f'(rate({step_duration}_count{{step=~"$step"}}[{RATE}]))',
                    "{{step}} {{outcome}}",
                ),
                stack=True,
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Saga event consumers: handled / s by outcome",
                "ops",
                (
                    "sum by (consumer, outcome) "
                    f'(rate(surge_consumer_messages_total{{consumer=~"order-.*"}}[{RATE}]))',
                    "{{consumer}} {{outcome}}",
                ),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Participant command consumers: handled / s by outcome",
                "ops",
                (
                    "sum by (consumer, outcome) "
                    f'(rate(surge_consumer_messages_total{{consumer=~".*-commands"}}[{RATE}]))',
                    "{{consumer}} {{outcome}}",
                ),
            ),
            12,
            8,
        ),
    ]
    return dashboard(
        "surge-saga",
        "Surge / Saga",
        "The order saga: step latency, outcomes, compensations, resends and parked sagas.",
        panels,
        query_var("step", f"label_values({step_duration}_count, step)"),
    )


def inventory() -> Panel:
    g = Layout()
    place = g.place
    outcomes = "surge_inventory_reservations_total"
    panels = [
        g.row("Reservations"),
        place(
            stat("Reservations held", "short", "sum(surge_inventory_reservations_held)"),
            6,
            5,
        ),
        place(
            stat(
                "Reserve rejected ratio",
                "percentunit",
                f'sum(rate({outcomes}{{outcome="rejected"}}[{RATE}])) '
                f'/ sum(rate({outcomes}{{outcome=~"reserved|rejected"}}[{RATE}]))',
                thresholds=red_when_above(0.2),
            ),
            6,
            5,
        ),
        place(
            stat(
                "Reservations expired in range",
                "short",
                "sum(increase(surge_inventory_reservations_expired_total[$__range]))",
            ),
            6,
            5,
        ),
        place(
            stat(
                "Units dispatched in range",
                "short",
                "sum(increase(surge_inventory_units_dispatched_total[$__range]))",
            ),
            6,
            5,
        ),
        place(
            timeseries(
                "Reserve outcomes / s",
                "ops",
                (f"sum by (outcome) (rate({outcomes}[{RATE}]))", "{{outcome}}"),
                stack=True,
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Reservations held",
                "short",
                ("sum by (job) (surge_inventory_reservations_held)", "held"),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Reservations released and expired / s",
                "ops",
                (f"sum(rate(surge_inventory_reservations_released_total[{RATE}]))", "released"),
                (f"sum(rate(surge_inventory_reservations_expired_total[{RATE}]))", "expired"),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Hot-SKU contention: allocations re-planned / s",
                "ops",
                (f"sum(rate(surge_inventory_reserve_retries_total[{RATE}]))", "retries"),
            ),
            12,
            8,
        ),
        g.row("Stock"),
        place(
            with_threshold_line(
                timeseries(
                    "Available stock of watched and lowest-stock SKUs",
                    "short",
                    ("max by (sku) (surge_inventory_stock_available_units)", "{{sku}}"),
                ),
                STOCK_THRESHOLD,
            ),
            16,
            8,
        ),
        place(
            stat(
                f"Watched SKUs below {STOCK_THRESHOLD} units",
                "short",
                "count(max by (sku) (surge_inventory_stock_available_units) "
                f"< {STOCK_THRESHOLD}) or vector(0)",
                thresholds=red_when_above(0.5),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Units leaving stock / s (dispatch)",
                "ops",
                (f"sum(rate(surge_inventory_units_dispatched_total[{RATE}]))", "units"),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Operator stock adjustments / s",
                "ops",
                (
                    f"sum by (direction) (rate(surge_inventory_stock_adjustments_total[{RATE}]))",
                    "{{direction}}",
                ),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Inventory command handling p99 by message",
                "s",
                (
                    "histogram_quantile(0.99, sum by (message, le) "
                    "(rate(surge_consumer_handle_duration_seconds_bucket"
                    f'{{consumer="inventory-commands"}}[{RATE}])))',
                    "{{message}}",
                ),
            ),
            24,
            8,
        ),
    ]
    return dashboard(
        "surge-inventory",
        "Surge / Inventory",
        "Reservations held, reserve outcomes (rejections mean stock ran out), expiry, "
        "contention on hot SKUs, available stock of watched SKUs and stock movements.",
        panels,
    )


def war_room() -> Panel:
    g = Layout()
    place = g.place
    posts = 'route="/v1/orders", method="POST"'
    panels = [
        g.row("Admission and shedding"),
        place(
            stat(
                "Shed / s",
                "reqps",
                f"sum(rate(surge_gateway_shed_total[{RATE}]))",
                thresholds=red_when_above(0.01),
            ),
            6,
            5,
        ),
        place(
            stat(
                "Rate limited / s",
                "reqps",
                f"sum(rate(surge_gateway_rate_limited_total[{RATE}]))",
                thresholds=red_when_above(1),
            ),
            6,
            5,
        ),
        place(
            stat(
                "Outbox oldest row age (max)",
                "s",
                "max(surge_outbox_oldest_age_seconds)",
                thresholds=red_when_above(60),
            ),
            6,
            5,
        ),
        place(
            stat(
                "Dead-lettered in range",
                "short",
                "sum(increase(surge_dead_lettered_total[$__range]))",
                thresholds=red_when_above(0.5),
            ),
            6,
            5,
        ),
        place(
            timeseries(
                "PlaceOrder in flight vs admission bound",
                "short",
                ("sum(surge_gateway_place_order_in_flight)", "in flight"),
                ("max(surge_gateway_admission_max_in_flight)", "bound (per gateway)"),
                ("sum(surge_gateway_http_requests_in_flight)", "HTTP in flight"),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "POST /v1/orders latency vs admission bound",
                "s",
                *quantiles("surge_gateway_http_request_duration_seconds", posts),
                ("max(surge_gateway_admission_max_latency_seconds)", "bound (mean)"),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Shed (503) / s by reason",
                "reqps",
                (f"sum by (reason) (rate(surge_gateway_shed_total[{RATE}]))", "{{reason}}"),
                stack=True,
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Rate limited (429) / s by class",
                "reqps",
                (
                    f"sum by (rate_class) (rate(surge_gateway_rate_limited_total[{RATE}]))",
                    "{{rate_class}}",
                ),
                stack=True,
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Per-principal limit by class",
                "reqps",
                (
                    "max by (rate_class) (surge_gateway_rate_limit_per_second)",
                    "{{rate_class}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Idempotency: replays and conflicts / s",
                "reqps",
                (f"sum(rate(surge_gateway_idempotent_replays_total[{RATE}]))", "replays"),
                (
                    f"sum by (reason) (rate(surge_gateway_idempotency_conflicts_total[{RATE}]))",
                    "conflict {{reason}}",
                ),
            ),
            8,
            8,
        ),
        g.row("Backlogs"),
        place(
            timeseries(
                "Outbox backlog by service",
                "short",
                ("sum by (job) (surge_outbox_backlog_messages)", "{{job}}"),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Outbox oldest row age by service",
                "s",
                ("max by (job) (surge_outbox_oldest_age_seconds)", "{{job}}"),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Outbox published / s and relay errors",
                "ops",
                (f"sum by (job) (rate(surge_outbox_published_total[{RATE}]))", "{{job}}"),
                (
                    f"sum by (job) (rate(surge_outbox_relay_errors_total[{RATE}]))",
                    "{{job}} errors",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Consumer pending by consumer",
                "short",
                ("max by (consumer) (surge_consumer_pending_messages)", "{{consumer}}"),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Redeliveries / s by consumer",
                "ops",
                (
                    f"sum by (consumer) (rate(surge_consumer_redeliveries_total[{RATE}]))",
                    "{{consumer}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Dead-lettered by consumer (per interval)",
                "short",
                (
                    f"sum by (consumer) (increase(surge_dead_lettered_total[{RATE}]))",
                    "{{consumer}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Dead letters waiting for an operator (DLQ depth)",
                "short",
                ("max by (job, consumer) (surge_dead_letter_messages)", "{{consumer}}"),
            ),
            12,
            8,
        ),
        place(
            timeseries(
                "Sagas parked (need an operator)",
                "short",
                ("max by (job) (surge_order_parked_sagas)", "parked"),
            ),
            12,
            8,
        ),
        g.row("Saturation"),
        place(
            timeseries(
                "CPU by service (cores)",
                "short",
                (f"sum by (job) (rate(process_cpu_seconds_total[{RATE}]))", "{{job}}"),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Resident memory by service",
                "bytes",
                ("sum by (job) (process_resident_memory_bytes)", "{{job}}"),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Throughput: accepted vs placed vs invoiced / s",
                "ops",
                (f"sum(rate(surge_gateway_orders_accepted_total[{RATE}]))", "accepted"),
                (f"sum(rate(surge_order_orders_placed_total[{RATE}]))", "placed"),
                (f"sum(rate(surge_billing_invoices_issued_total[{RATE}]))", "invoiced"),
            ),
            8,
            8,
        ),
    ]
    return dashboard(
        "surge-war-room",
        "Surge / Double 11 war room",
        "Peak-event view: admission control and shedding, rate limiting, backlogs (outbox, "
        "consumers, dead letters) and per-service saturation.",
        panels,
    )


def red() -> Panel:
    g = Layout()
    place = g.place
    job = 'job=~"$job"'
    panels = [
        g.row("gRPC (order, inventory, fulfillment, billing)"),
        place(
            timeseries(
                "gRPC requests / s by method",
                "reqps",
                (
                    f"sum by (method) (rate(surge_grpc_server_requests_total{{{job}}}[{RATE}]))",
                    "{{method}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "gRPC non-OK / s by method and code",
                "reqps",
                (
                    "sum by (method, code) (rate(surge_grpc_server_requests_total"
                    f'{{{job}, code!="OK"}}[{RATE}]))',
                    "{{method}} {{code}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "gRPC latency",
                "s",
                *quantiles("surge_grpc_server_duration_seconds", job),
            ),
            8,
            8,
        ),
        g.row("HTTP (gateway)"),
        place(
            timeseries(
                "HTTP requests / s by route",
                "reqps",
                (
                    "sum by (method, route) "
                    f"(rate(surge_gateway_http_requests_total{{{job}}}[{RATE}]))",
                    "{{method}} {{route}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "HTTP 4xx/5xx / s by route and status",
                "reqps",
                (
                    "sum by (route, status) (rate(surge_gateway_http_requests_total"
                    f'{{{job}, status=~"[45].."}}[{RATE}]))',
                    "{{route}} {{status}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "HTTP p99 by route",
                "s",
                (
                    "histogram_quantile(0.99, sum by (route, le) "
                    f"(rate(surge_gateway_http_request_duration_seconds_bucket{{{job}}}[{RATE}])))",
                    "{{route}}",
                ),
            ),
            8,
            8,
        ),
        g.row("Consumers"),
        place(
            timeseries(
                "Messages / s by consumer and outcome",
                "ops",
                (
                    "sum by (consumer, outcome) "
                    f"(rate(surge_consumer_messages_total{{{job}}}[{RATE}]))",
                    "{{consumer}} {{outcome}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Handle p99 by consumer and message",
                "s",
                (
                    "histogram_quantile(0.99, sum by (consumer, message, le) "
                    f"(rate(surge_consumer_handle_duration_seconds_bucket{{{job}}}[{RATE}])))",
                    "{{consumer}} {{message}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Pending, redeliveries and dead letters",
                "short",
                (
                    "sum by (consumer) (surge_consumer_pending_messages{" + job + "})",
                    "pending {{consumer}}",
                ),
                (
                    "sum by (consumer) "
                    f"(increase(surge_consumer_redeliveries_total{{{job}}}[{RATE}]))",
                    "redelivered {{consumer}}",
                ),
                (
                    f"sum by (consumer) (increase(surge_dead_lettered_total{{{job}}}[{RATE}]))",
                    "dead-lettered {{consumer}}",
                ),
            ),
            8,
            8,
        ),
        g.row("Outbox and saturation"),
        place(
            timeseries(
                "Outbox backlog and oldest age",
                "short",
                (f"max(surge_outbox_backlog_messages{{{job}}})", "backlog (rows)"),
                (f"max(surge_outbox_oldest_age_seconds{{{job}}})", "oldest (s)"),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "CPU (cores) by instance",
                "short",
                (
                    f"sum by (instance) (rate(process_cpu_seconds_total{{{job}}}[{RATE}]))",
                    "{{instance}}",
                ),
            ),
            8,
            8,
        ),
        place(
            timeseries(
                "Resident memory and open fds by instance",
                "short",
                (f"sum by (instance) (process_resident_memory_bytes{{{job}}})", "rss {{instance}}"),
                (f"sum by (instance) (process_open_fds{{{job}}})", "fds {{instance}}"),
            ),
            8,
            8,
        ),
    ]
    return dashboard(
        "surge-service-red",
        "Surge / Service RED",
        "Rate, errors and duration of one service's gRPC methods or HTTP routes, its consumers, "
        "its outbox and its process. Pick the service with the `job` variable.",
        panels,
        query_var("job", SERVICE_JOBS, multi=False, include_all=False),
    )


DASHBOARDS = {
    "surge-overview": overview,
    "surge-saga": saga,
    "surge-inventory": inventory,
    "surge-war-room": war_room,
    "surge-service-red": red,
}


def render() -> dict[str, str]:
    return {
        f"{name}.json": json.dumps(build(), indent=2, sort_keys=True) + "\n"
        for name, build in DASHBOARDS.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--check", action="store_true", help="fail if the JSON files drifted")
    args = parser.parse_args()
    files = render()
    stale: list[str] = []
    for out in OUTPUTS:
        present = {p.name for p in out.glob("*.json")} if out.exists() else set()
        for extra in sorted(present - set(files)):
            stale.append(str(out / extra))
            if not args.check:
                (out / extra).unlink()
        for name, text in files.items():
            path = out / name
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
                if not args.check:
                    out.mkdir(parents=True, exist_ok=True)
                    path.write_text(text)
    if args.check and stale:
        sys.stderr.write(
            "dashboards differ from deploy/grafana/generate.py; run it:\n  "
            + "\n  ".join(stale)
            + "\n"
        )
        raise SystemExit(1)
    if not args.check:
        sys.stdout.write(f"wrote {len(files)} dashboards ({len(stale)} files changed)\n")


if __name__ == "__main__":
    main()
