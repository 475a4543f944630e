"""A saga reply handled alone (no group commit) claims its inbox row and locks its order with one
statement (`SagaReply`), and `OrderRepository.save()` writes the queued messages with the order
and saga: StockReserved costs four round trips (BEGIN, claim + lock, one write, COMMIT) where it
cost six. The guarantees stay: applied once per message id, nothing kept for an unknown order,
messages written with the state they announce and handed to the publisher after COMMIT."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge_order.domain.saga import Step
from surge_order.entrypoints.wiring import SagaReply
from surge_order.service_layer import handlers
from surge_order.service_layer.saga import Orchestrator
from surge_order.service_layer.unit_of_work import OrderUnitOfWork
from surge_platform.db import publish_after_commit
from surge_platform.messaging import Envelope

from tests.integration.order.conftest import uows
from tests.integration.order.test_order_store import orchestrator, outbox_types, place
from tests.integration.order.test_saga_batch_writes import reserved, saga_id

pytestmark = pytest.mark.integration
__all__ = ["orchestrator"]  # the fixture, imported for this module's tests


# How asyncpg's own queries begin (it learns a fresh connection's types once).
_INTROSPECTION = (" ", "\n", "WITH RECURSIVE typeinfo_tree")


class CountingUnitOfWork(OrderUnitOfWork):
    """A saga reply's unit of work that records every statement its connection sends, on the
    driver (raw statements, BEGIN, COMMIT) and through SQLAlchemy, except the driver's one-off
    type introspection of a fresh connection."""

    def __init__(self, engine: AsyncEngine, sent: list[str]) -> None:
        super().__init__(engine, batch_writes=True)
        self._sent = sent

    def _driver_statement(self, record: Any) -> None:
        if not record.query.startswith(_INTROSPECTION):
            self._sent.append(record.query.split(None, 1)[0].rstrip(";").upper())

    def _sqlalchemy_statement(self, *args: Any) -> None:
        self._sent.append(str(args[2]).split(None, 1)[0].upper())

    async def _open(self) -> None:
        await super()._open()
        self._driver = self.connection.sync_connection.connection.dbapi_connection._connection  # type: ignore[union-attr]
        self._driver.add_query_logger(self._driver_statement)
        event.listen(
            self.connection.sync_connection, "before_cursor_execute", self._sqlalchemy_statement
        )

    async def __aexit__(self, *exc: Any) -> None:
        self._driver.remove_query_logger(self._driver_statement)
        event.remove(
            self.connection.sync_connection, "before_cursor_execute", self._sqlalchemy_statement
        )
        await super().__aexit__(*exc)


def envelope(message_id: str) -> Envelope:
    return Envelope(message_id, "t.inventory.evt.stock_reserved", {}, 1)


def reply_handler(
    engine: AsyncEngine, orchestrator: Orchestrator, sent: list[str] | None = None
) -> SagaReply:
    def uow() -> OrderUnitOfWork:
        if sent is None:
            return OrderUnitOfWork(engine, batch_writes=True)
        return CountingUnitOfWork(engine, sent)

    return SagaReply("order-inventory-events", uow, orchestrator.on_stock_reserved)


async def inbox_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one())


async def test_a_reply_alone_takes_four_round_trips_and_applies_once(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    order_id = await place(engine, orchestrator)
    reply = reserved(order_id, await saga_id(engine, order_id))
    statements: list[str] = []
    handle = reply_handler(engine, orchestrator, statements)
    published: list[str] = []
    publish_after_commit(
        engine, lambda rows: published.extend(r.msg_type.rsplit(".", 1)[-1] for r in rows)
    )

    await handle(reply, envelope("m-1"))
    await asyncio.sleep(0)  # the driver hands over its query log with call_soon

    assert statements == ["BEGIN", "WITH", "WITH", "COMMIT"]
    view = await handlers.get_order(order_id, uows(engine))
    assert view.saga is not None
    assert view.saga.current_step is Step.CREATE_SHIPMENT
    assert [(s.step, s.status) for s in view.steps] == [
        ("inventory.reserve", "succeeded"),
        ("fulfillment.create_shipment", "started"),
    ]
    sent = await outbox_types(engine)
    assert sent.count("CreateShipmentsCommand") == 1
    assert sent.count("CommitReservationCommand") == 1
    assert sorted(published) == ["CommitReservationCommand", "CreateShipmentsCommand"]

    # Redelivered: claimed before, so no effect and no message, in three round trips.
    statements.clear()
    await handle(reply, envelope("m-1"))
    await asyncio.sleep(0)
    assert statements == ["BEGIN", "WITH", "COMMIT"]
    assert await outbox_types(engine) == sent
    assert len(published) == 2
    assert await inbox_rows(engine) == 1


async def test_a_reply_for_an_unknown_order_keeps_no_inbox_row(
    engine: AsyncEngine, orchestrator: Orchestrator
) -> None:
    handle = reply_handler(engine, orchestrator)
    unknown = str(uuid.uuid4())
    await handle(reserved(unknown, str(uuid.uuid4())), envelope("m-unknown"))
    # As with `idempotent()`: the handler did not commit, so the claim rolled back too.
    assert await inbox_rows(engine) == 0
