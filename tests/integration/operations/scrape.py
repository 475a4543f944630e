"""Read one sample from a service's /metrics, as Prometheus would scrape it."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


async def sample(url: str, name: str, **labels: str) -> float | None:
    """The value of `name{labels}` (labels a subset), or None while it is not exported."""
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(url)).text
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return None
