"""`configure_logging`: one JSON object per line, with the service and the current trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from surge_platform.logging import configure_logging, get_logger


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        root.handlers[:] = handlers
        root.setLevel(level)


def lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


@pytest.mark.usefixtures("restore_logging")
def test_a_log_line_inside_a_span_carries_its_trace_and_span_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("inventory", "INFO")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("reserve") as span:
        get_logger("surge.test").info("stock reserved", order_id="o-1")
        logging.getLogger("surge.stdlib").warning("from the standard library")
    get_logger("surge.test").info("outside any span")

    inside, stdlib, outside = lines(capsys.readouterr().err)
    context = span.get_span_context()
    expected = {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "service": "inventory",
    }
    assert inside == inside | expected | {"event": "stock reserved", "order_id": "o-1"}
    assert inside["level"] == "info"
    assert inside["timestamp"].endswith("Z")
    assert stdlib == stdlib | expected | {"event": "from the standard library"}
    assert stdlib["level"] == "warning"
    assert outside["service"] == "inventory"
    assert "trace_id" not in outside
    assert "span_id" not in outside


@pytest.mark.usefixtures("restore_logging")
def test_levels_below_the_configured_one_are_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("order", "WARNING")
    get_logger("surge.test").info("chatty")
    get_logger("surge.test").error("broken", reason="db down")
    (only,) = lines(capsys.readouterr().err)
    assert only["event"] == "broken"
    assert only["service"] == "order"
