"""A group commit of billing commands takes its advisory locks up front, sorted, so two chunks
that share customers wait for each other instead of deadlocking on the invoice counter row."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from surge.billing.v1 import billing_pb2
from surge.order.v1 import order_pb2
from surge_billing.adapters.chunk import lock_chunk
from surge_platform.db import batch_transaction
from surge_platform.ids import new_id

from tests.integration.billing.conftest import Billing

pytestmark = pytest.mark.integration

_HELD = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")


async def test_a_chunk_takes_every_order_and_customer_lock_before_its_handlers(
    billing: Billing,
) -> None:
    orders = [new_id() for _ in range(3)]
    chunk = [
        billing_pb2.IssueInvoiceCommand(order_id=orders[0], customer_id="c-2"),
        billing_pb2.VoidInvoiceCommand(order_id=orders[1]),
        billing_pb2.RecordPaymentCommand(order_id=orders[2], customer_id="c-1"),
        billing_pb2.IssueInvoiceCommand(order_id=orders[2], customer_id="c-1"),
        order_pb2.OrderStatusChanged(order_id=new_id()),  # the ledger's events lock nothing
    ]
    async with batch_transaction(billing.engine) as batch:
        await lock_chunk(batch, chunk)
        held = (await batch.connection.execute(_HELD)).scalar_one()
    assert held == 3 + 2  # three orders, two customers, each once


async def test_a_single_command_leaves_locking_to_its_handler(billing: Billing) -> None:
    async with batch_transaction(billing.engine) as batch:
        await lock_chunk(batch, [billing_pb2.VoidInvoiceCommand(order_id=new_id())])
        assert (await batch.connection.execute(_HELD)).scalar_one() == 0
