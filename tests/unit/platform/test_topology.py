from __future__ import annotations

from surge.billing.v1 import billing_pb2
from surge.inventory.v1 import inventory_pb2
from surge_platform.messaging import Topology


def test_subjects_derive_from_contract_names() -> None:
    topology = Topology("surge")

    assert topology.subject_for(inventory_pb2.ReserveStockCommand) == (
        "surge.inventory.cmd.reserve_stock"
    )
    assert topology.subject_for(inventory_pb2.StockReserved()) == (
        "surge.inventory.evt.stock_reserved"
    )
    assert topology.subject_for(billing_pb2.InvoiceIssued) == "surge.billing.evt.invoice_issued"


def test_every_subject_falls_in_exactly_one_stream() -> None:
    topology = Topology("t1")
    subjects = [
        topology.subject_for(inventory_pb2.ReserveStockCommand),
        topology.subject_for(inventory_pb2.StockReserved),
        topology.dlq_subject("order-saga"),
    ]
    streams = topology.stream_configs()

    for subject in subjects:
        owners = [
            s.name
            for s in streams
            if any(subject.startswith(p.removesuffix(">")) for p in (s.subjects or []))
        ]
        assert len(owners) == 1, (subject, owners)
    assert all(s.duplicate_window and s.duplicate_window >= 600 for s in streams)
