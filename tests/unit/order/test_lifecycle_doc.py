"""docs/order-lifecycle.md shows exactly the transition table the code enforces."""

from __future__ import annotations

import re
from pathlib import Path

from surge_order.domain.status import TERMINAL, TRANSITIONS, OrderStatus, render_mermaid

DOC = Path(__file__).resolve().parents[3] / "docs" / "order-lifecycle.md"


def test_lifecycle_doc_matches_the_transition_table() -> None:
    found = re.search(r"```mermaid\n(.*?)\n```", DOC.read_text(), re.DOTALL)
    assert found, "docs/order-lifecycle.md has no mermaid block"
    assert found.group(1) == render_mermaid().rstrip("\n"), (
        "docs/order-lifecycle.md is out of date: paste render_mermaid() into it"
    )


def test_every_status_is_in_the_table_and_terminal_ones_have_no_way_out() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert {OrderStatus.CANCELLED, OrderStatus.CLOSED, OrderStatus.REFUNDED} == TERMINAL


def test_the_diagram_draws_every_allowed_transition() -> None:
    diagram = render_mermaid()
    for status, nexts in TRANSITIONS.items():
        for nxt in nexts:
            assert f"{status.value} --> {nxt.value}:" in diagram
