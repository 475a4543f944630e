"""Which metric names the dashboards and rules in deploy/ use, and which ones a scrape exposes.

`metric_names(expr)` is a small PromQL tokenizer, not a parser: it drops string literals, label
matchers, range/subquery brackets, grouping label lists (`by (...)`, `on (...)`, ...), Grafana
variables and numbers, and keeps the identifiers that are not functions or keywords. Names in a
`__name__` matcher (`{__name__=~"a|b"}`) are kept. Grafana's `label_values(selector, label)`
variable queries contribute their selector's names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
CHART_DASHBOARDS = ROOT / "deploy" / "helm" / "surge" / "files" / "dashboards"
RULES = ROOT / "deploy" / "prometheus"
CHART_RULES = ROOT / "deploy" / "helm" / "surge" / "files" / "prometheus"
RULE_TESTS = RULES / "tests"

# Series Prometheus makes itself for every target; no service exports them.
SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"bool", "offset", "inf", "nan", "atan2"}
    # Aggregation operators can take their grouping first: `sum by (job) (...)`.
    | {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values"}
    | {"bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "info": ("_info",),
}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NAME_MATCHER = re.compile(r'__name__\s*=~?\s*"((?:[^"\\]|\\.)*)"')
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]")
_NUMBER = re.compile(r"(?<![\w:])\d[\w.]*(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<args>.*)\)\s*$", re.DOTALL)


def metric_names(expr: str) -> set[str]:
    """Metric (and recording rule) names that a PromQL expression selects."""
    names: set[str] = set()
    for alternatives in _NAME_MATCHER.findall(expr):
        names.update(a for a in alternatives.split("|") if a)
    text = _VARIABLE.sub(" ", expr)
    text = _STRING.sub('""', text)
    text = _BRACES.sub("{}", text)
    text = _BRACKETS.sub("[]", text)
    text = _GROUPING.sub(r"\1 ()", text)
    text = _NUMBER.sub(" ", text)
    for match in _IDENT.finditer(text):
        word = match.group()
        following = text[match.end() :].lstrip()
        if word in KEYWORDS or following.startswith("("):
            continue  # a keyword, or a function / aggregation called with arguments
        names.add(word)
    return names


def variable_query_names(query: str) -> set[str]:
    """Names used by a Grafana template-variable query (`label_values(...)` or plain PromQL)."""
    found = _LABEL_VALUES.match(query)
    if not found:
        return metric_names(query)
    args = found.group("args")
    selector, _, _label = args.rpartition(",")
    return metric_names(selector) if selector.strip() else set()


@dataclass(frozen=True)
class Query:
    """One PromQL expression and where it lives, for messages that point at the culprit."""

    where: str
    expr: str
    names: frozenset[str]


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries(path: Path) -> list[Query]:
    board = json.loads(path.read_text())
    queries: list[Query] = []
    for panel in _panels(board.get("panels", [])):
        for target in panel.get("targets", []):
            if expr := target.get("expr"):
                where = f"{path.name}: panel {panel.get('title')!r} {target.get('refId')}"
                queries.append(Query(where, expr, frozenset(metric_names(expr))))
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        raw = variable.get("query")
        text = raw.get("query", "") if isinstance(raw, dict) else str(raw or "")
        where = f"{path.name}: variable ${variable.get('name')}"
        queries.append(Query(where, text, frozenset(variable_query_names(text))))
    return queries


def rule_groups(path: Path) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(path.read_text())["groups"]
    return groups


def rule_queries(path: Path) -> list[Query]:
    queries = []
    for group in rule_groups(path):
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            where = f"{path.name}: {group['name']}/{name}"
            queries.append(Query(where, rule["expr"], frozenset(metric_names(rule["expr"]))))
    return queries


def all_queries() -> list[Query]:
    return [
        *(q for p in sorted(DASHBOARDS.glob("*.json")) for q in dashboard_queries(p)),
        *(q for p in sorted(RULES.glob("*.yaml")) for q in rule_queries(p)),
    ]


def recorded_names() -> set[str]:
    return {
        rule["record"]
        for path in RULES.glob("*.yaml")
        for group in rule_groups(path)
        for rule in group["rules"]
        if "record" in rule
    }


def alert_names() -> set[str]:
    return {
        rule["alert"]
        for path in RULES.glob("*.yaml")
        for group in rule_groups(path)
        for rule in group["rules"]
        if "alert" in rule
    }


@dataclass
class Exposition:
    """What one /metrics scrape declares: every series name its families can expose (whether
    or not a labelled family has samples yet) and the samples it has."""

    series_names: set[str]
    samples: dict[str, list[tuple[dict[str, str], float]]]


def parse_exposition(text: str) -> Exposition:
    names: set[str] = set()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        names.update(family.name + s for s in SUFFIXES.get(family.type, ("",)))
        for sample in family.samples:
            names.add(sample.name)
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return Exposition(names, samples)
