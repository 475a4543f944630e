"""The finance ledger's consumer of OrderStatusChanged (`billing-order-events`).

Two of the three messages billing handles per order are these events, and at low rates each
arrives alone. Through `idempotent()` each then cost a unit of work of four round trips (BEGIN,
inbox claim, ledger upsert, COMMIT). The effect is one version-guarded upsert and the event needs
no reply, so a message that arrives alone is claimed and applied with one autocommit statement
(`finance_repository.claim_and_record`): still exactly once, claim and effect in one
transaction. In a group commit the consumer's batch has already claimed the chunk's ids and
the upserts of the batch go out together, so there the plain `idempotent()` path runs.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from surge.order.v1 import order_pb2
from surge_platform.db import current_batch
from surge_platform.inbox import IdempotentHandler
from surge_platform.messaging import Envelope

from surge_billing.adapters.finance_repository import claim_and_record
from surge_billing.service_layer import finance
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = ["LedgerConsumer"]


class LedgerConsumer(IdempotentHandler[order_pb2.OrderStatusChanged, BillingUnitOfWork]):
    """`idempotent(consumer, uow_factory, finance.record_order_status)`, with one statement for
    an event outside a group commit."""

    def __init__(
        self, consumer: str, engine: AsyncEngine, uow_factory: Callable[[], BillingUnitOfWork]
    ) -> None:
        super().__init__(consumer, uow_factory, finance.record_order_status)
        self._engine = engine

    async def __call__(self, message: order_pb2.OrderStatusChanged, envelope: Envelope) -> None:
        if current_batch() is not None:
            await super().__call__(message, envelope)
            return
        async with self._engine.connect() as connection:
            await claim_and_record(
                connection, self.inbox_consumer, envelope.message_id, finance.ledger_entry(message)
            )
