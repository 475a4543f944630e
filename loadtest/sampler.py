"""Samples the services' Prometheus endpoints (and the API) during a run, into a CSV.

Counters are accumulated across process restarts (a restarted service starts again from zero),
so the totals stay meaningful in chaos runs. Per sample: completed sagas (orders reaching
`awaiting_shipment`), orders cancelled, backlog (consumer pending + outbox rows + running sagas),
redeliveries, step resends and compensations.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["COUNTERS", "MetricsSampler", "devstack_metrics_urls"]

# name in the CSV -> (metric sample name, label filter)
COUNTERS: dict[str, tuple[str, dict[str, str]]] = {
    "sagas_completed": ("surge_order_status_transitions_total", {"to_status": "awaiting_shipment"}),
    "orders_cancelled": ("surge_order_status_transitions_total", {"to_status": "cancelled"}),
    "redeliveries": ("surge_consumer_redeliveries_total", {}),
    "repeated_deliveries": ("surge_consumer_repeated_deliveries_total", {}),
    "step_resends": ("surge_order_saga_step_resends_total", {}),
    "compensations": ("surge_order_saga_compensations_total", {}),
    "dead_lettered": ("surge_dead_lettered_total", {}),
}
GAUGES: dict[str, tuple[str, dict[str, str]]] = {
    "consumer_pending": ("surge_consumer_pending_messages", {}),
    "outbox_backlog": ("surge_outbox_backlog_messages", {}),
}
SERVICES = ("inventory", "fulfillment", "billing", "order")


def devstack_metrics_urls() -> dict[str, str]:
    """The /metrics URLs of `make up` (SURGE_DEV_METRICS_BASE_PORT + 1..4, as devstack.py)."""
    base = int(os.environ.get("SURGE_DEV_METRICS_BASE_PORT", 9100))
    return {
        name: f"http://127.0.0.1:{base + i}/metrics" for i, name in enumerate(SERVICES, start=1)
    }


def _sum(text: str, wanted: dict[str, tuple[str, dict[str, str]]]) -> dict[str, float]:
    totals = dict.fromkeys(wanted, 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for key, (name, labels) in wanted.items():
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    totals[key] += sample.value
    return totals


class MetricsSampler:
    """A background thread writing one CSV row every `interval` seconds."""

    def __init__(
        self,
        urls: dict[str, str],
        out: Path,
        *,
        interval: float = 2.0,
        api: tuple[str, dict[str, str]] | None = None,
    ) -> None:
        self.urls, self.out, self.interval, self.api = urls, out, interval, api
        self.last: dict[tuple[str, str], float] = {}
        self.totals = dict.fromkeys(COUNTERS, 0.0)
        self.scrape_failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="metrics-sampler", daemon=True)
        self.fields = ["time", *COUNTERS, *GAUGES, "running_sagas", "services_up"]

    def start(self) -> None:
        with open(self.out, "w", newline="") as f:
            csv.writer(f).writerow(self.fields)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        with httpx.Client(timeout=2) as http:
            while not self._stop.is_set():
                self.sample(http)
                self._stop.wait(self.interval)
            self.sample(http)

    def _accumulate(self, service: str, counters: dict[str, float]) -> None:
        for key, value in counters.items():
            previous = self.last.get((service, key))
            if previous is None:
                delta = 0.0  # the first sample is the baseline: count what the run caused
            elif value < previous:
                delta = value  # the process restarted and its counter began again at zero
            else:
                delta = value - previous
            self.totals[key] += delta
            self.last[(service, key)] = value

    def sample(self, http: httpx.Client) -> dict[str, float]:
        gauges = dict.fromkeys(GAUGES, 0.0)
        up = 0
        for service, url in self.urls.items():
            try:
                text = http.get(url).text
            except httpx.HTTPError:
                self.scrape_failures += 1
                continue
            up += 1
            self._accumulate(service, _sum(text, COUNTERS))
            for key, value in _sum(text, GAUGES).items():
                gauges[key] += value
        running = self.running_sagas(http) if self.api else float("nan")
        row = {"time": time.time(), **self.totals, **gauges, "running_sagas": running}
        row["services_up"] = up
        with open(self.out, "a", newline="") as f:
            csv.writer(f).writerow([row[k] for k in self.fields])
        return row

    def running_sagas(self, http: httpx.Client) -> float:
        assert self.api is not None
        host, headers = self.api
        try:
            reply = http.get(
                f"{host}/v1/admin/sagas",
                params={"state": "running", "limit": 1000},
                headers=headers,
            )
            return float(len(reply.json()["sagas"])) if reply.status_code == 200 else float("nan")
        except (httpx.HTTPError, ValueError, KeyError):
            return float("nan")


def reachable(urls: dict[str, str]) -> dict[str, str]:
    found = {}
    for name, url in urls.items():
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                found[name] = url
        except httpx.HTTPError:
            continue
    return found
