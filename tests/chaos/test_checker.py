"""The invariant checker's verdicts on hand-made outcomes: it must catch what it promises to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loadtest.checker import CheckResult, _check_flash, _check_stock
from loadtest.common import Ledger, Manifest, clear_run_files, read_ledger


def order(status: str, sku: str, quantity: int, customer: str = "c1") -> dict[str, Any]:
    return {
        "status": status,
        "customer": {"id": customer},
        "lines": [{"sku": sku, "quantity": quantity}],
    }


def stock(on_hand: int, reserved: int) -> dict[str, Any]:
    return {"on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}


def test_stock_that_matches_the_orders_passes() -> None:
    manifest = Manifest(run_id="r", started_at=0, skus={"A": 10})
    details = {"1": order("awaiting_shipment", "A", 3), "2": order("cancelled", "A", 5)}
    result = CheckResult()

    _check_stock(result, manifest, details, {"A": stock(10, 3)}, {})

    assert result.ok, result.violations


def test_a_reservation_nobody_holds_or_negative_stock_is_a_violation() -> None:
    manifest = Manifest(run_id="r", started_at=0, skus={"A": 10, "B": 1})
    details = {"1": order("awaiting_shipment", "A", 3), "2": order("pending_payment", "B", 2)}
    result = CheckResult()

    _check_stock(result, manifest, details, {"A": stock(10, 4), "B": stock(1, 2)}, {})

    assert any("A reserved is 4, expected 3" in v for v in result.violations)
    assert any("B available is negative" in v for v in result.violations)


def test_an_oversold_flash_sale_and_a_customer_above_the_limit_are_violations() -> None:
    manifest = Manifest(
        run_id="r", started_at=0, skus={"F": 2}, flash_sku="F", flash_stock=2, flash_limit=1
    )
    details = {
        "1": order("awaiting_shipment", "F", 2, customer="greedy"),
        "2": order("awaiting_shipment", "F", 1, customer="late"),
    }
    result = CheckResult()

    _check_flash(result, manifest, details)

    assert any("sold 3 units" in v for v in result.violations)
    assert any("greedy=2" in v for v in result.violations)


def test_a_flash_sale_that_sold_exactly_its_stock_within_limits_passes() -> None:
    manifest = Manifest(
        run_id="r", started_at=0, skus={"F": 2}, flash_sku="F", flash_stock=2, flash_limit=1
    )
    details = {
        "1": order("awaiting_shipment", "F", 1, customer="a"),
        "2": order("pending_payment", "F", 1, customer="b"),
        "3": order("cancelled", "F", 1, customer="c"),
    }
    result = CheckResult()

    _check_flash(result, manifest, details)

    assert result.ok, result.violations


def test_a_run_in_a_used_out_dir_starts_with_an_empty_ledger(tmp_path: Path) -> None:
    earlier = Ledger(tmp_path / "ledger.jsonl")
    earlier.record("accepted", "order-of-an-earlier-run")
    earlier.close()
    (tmp_path / "client_latencies.csv").write_text("1,202,15.0\n")

    clear_run_files(tmp_path)

    assert read_ledger(tmp_path / "ledger.jsonl") == []
    assert not (tmp_path / "client_latencies.csv").exists()
