"""The dashboards and rules in deploy/ are consistent with each other and with the Helm chart.

No servers here (fast): `test_metrics_exported.py` checks the names against a running system,
and `scripts/promtool.sh` runs promtool's own checks and the alert unit tests.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.observability.promql import (
    CHART_DASHBOARDS,
    CHART_RULES,
    DASHBOARDS,
    ROOT,
    RULE_TESTS,
    RULES,
    alert_names,
    all_queries,
    metric_names,
    parse_exposition,
    recorded_names,
    variable_query_names,
)

REQUIRED_DASHBOARDS = {
    "surge-overview.json",
    "surge-saga.json",
    "surge-inventory.json",
    "surge-war-room.json",
    "surge-service-red.json",
}


def _same_files(left: Path, right: Path, pattern: str) -> None:
    left_files = {p.name: p.read_bytes() for p in left.glob(pattern)}
    right_files = {p.name: p.read_bytes() for p in right.glob(pattern)}
    assert sorted(left_files) == sorted(right_files)
    for name, content in left_files.items():
        assert content == right_files[name], f"{right / name} differs from {left / name}"


def test_chart_ships_the_same_dashboards_as_deploy_grafana() -> None:
    assert {p.name for p in DASHBOARDS.glob("*.json")} >= REQUIRED_DASHBOARDS
    _same_files(DASHBOARDS, CHART_DASHBOARDS, "*.json")


def test_chart_ships_the_same_rules_as_deploy_prometheus() -> None:
    assert {p.name for p in RULES.glob("*.yaml")}, "no rule files"
    _same_files(RULES, CHART_RULES, "*.yaml")


def test_dashboards_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "surge_dashboards", ROOT / "deploy" / "grafana" / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rendered: dict[str, str] = module.render()
    on_disk = {p.name: p.read_text() for p in DASHBOARDS.glob("*.json")}
    assert rendered == on_disk, "run: python deploy/grafana/generate.py"


@pytest.mark.parametrize("path", sorted(DASHBOARDS.glob("*.json")), ids=lambda p: p.name)
def test_every_dashboard_panel_queries_prometheus_through_the_datasource_variable(
    path: Path,
) -> None:
    board: dict[str, Any] = json.loads(path.read_text())
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    panels = [p for p in board["panels"] if p["type"] != "row"]
    assert panels
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            assert metric_names(target["expr"]), f"{panel['title']}: no metric in query"
    uids = {json.loads(p.read_text())["uid"] for p in DASHBOARDS.glob("*.json")}
    assert len(uids) == len(list(DASHBOARDS.glob("*.json"))), "dashboard uids must be unique"


def test_recording_rules_used_by_dashboards_and_alerts_are_defined() -> None:
    recorded = recorded_names()
    used = {name for q in all_queries() for name in q.names if ":" in name}
    assert used, "the alerts are expected to use recording rules"
    assert used <= recorded, f"undefined recording rules: {sorted(used - recorded)}"


def test_every_alert_has_a_promtool_unit_test_where_it_fires() -> None:
    fired: set[str] = set()
    for path in RULE_TESTS.glob("*.yaml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    missing = alert_names() - fired
    assert not missing, f"alerts without a firing promtool test: {sorted(missing)}"


def test_metric_names_skip_functions_labels_variables_and_numbers() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (job, le) (rate(a_seconds_bucket{job=~"$job", '
        'code!="OK"}[$__rate_interval]))) / on (job) group_left max(b_total offset 15m) '
        "> 14.4 * 1e-3 and job:c:ratio_rate5m unless d"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "job:c:ratio_rate5m", "d"}
    assert metric_names('{__name__=~"x_total|y_total"}') == {"x_total", "y_total"}
    assert variable_query_names("label_values(z_count, step)") == {"z_count"}
    assert variable_query_names("label_values(job)") == set()


def test_exposition_lists_series_names_of_families_without_samples() -> None:
    text = (
        "# HELP a_total A\n# TYPE a_total counter\n"
        "# HELP h_seconds H\n# TYPE h_seconds histogram\n"
        "# HELP g G\n# TYPE g gauge\ng 3.0\n"
    )
    exposed = parse_exposition(text)
    assert {"a_total", "h_seconds_bucket", "h_seconds_count", "h_seconds_sum", "g"} <= (
        exposed.series_names
    )
    assert exposed.samples["g"] == [({}, 3.0)]
