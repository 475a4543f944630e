"""An in-process billing service on real PostgreSQL and NATS: the real `bootstrap.build()`,
its JetStream consumer and the outbox relay, plus a subscriber that collects every reply."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest
from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge_billing import bootstrap
from surge_billing.config import BillingSettings
from surge_platform.ids import new_id
from surge_platform.messaging import (
    HEADER_MESSAGE_ID,
    HEADER_TYPE,
    Topology,
)
from surge_platform.migrations import migrate, migrations_of
from surge_platform.testing.inprocess import run_in_process
from surge_platform.testing.servers import NatsServer

from tests.support import wait_until

MIGRATIONS = migrations_of("surge_billing")

REPLY_TYPES: dict[str, type[Message]] = {
    t.DESCRIPTOR.full_name: t
    for t in (
        billing_pb2.InvoiceIssued,
        billing_pb2.InvoiceRejected,
        billing_pb2.InvoiceVoided,
        billing_pb2.PaymentRecorded,
    )
}
BOOKS = timezone(timedelta(hours=8))
R = TypeVar("R", bound=Message)


def this_year() -> int:
    return datetime.now(UTC).astimezone(BOOKS).year


def issue_command(
    order_id: str,
    *,
    customer_id: str = "cust-1",
    terms: common_pb2.PaymentTerms = common_pb2.PAYMENT_TERMS_ON_ACCOUNT,
    amount_minor: int = 11_300,
    sku: str = "SKU-TEA",
    saga_id: str | None = None,
) -> billing_pb2.IssueInvoiceCommand:
    """One line of `amount_minor` (quantity 1): tax-inclusive, 13 % VAT inside."""
    return billing_pb2.IssueInvoiceCommand(
        saga_id=saga_id or f"saga-{order_id}",
        order_id=order_id,
        customer_id=customer_id,
        payment_terms=terms,
        lines=[
            billing_pb2.InvoiceLine(
                sku=sku,
                description="Longjing tea",
                quantity=1,
                unit_price=common_pb2.Money(amount_minor=amount_minor, currency="CNY"),
            )
        ],
        total=common_pb2.Money(amount_minor=amount_minor, currency="CNY"),
    )


@dataclass
class Billing:
    """Handle on a running in-process billing service."""

    engine: AsyncEngine
    js: JetStreamContext
    topology: Topology
    registry: CollectorRegistry
    replies: list[Message] = field(default_factory=list)

    async def send(self, command: Message, message_id: str | None = None) -> str:
        message_id = message_id or new_id()
        await self.js.publish(
            self.topology.subject_for(command),
            command.SerializeToString(),
            headers={
                HEADER_MESSAGE_ID: message_id,
                HEADER_TYPE: command.DESCRIPTOR.full_name,
                "Nats-Msg-Id": message_id,
            },
        )
        return message_id

    def replies_of(self, kind: type[R], order_id: str | None = None) -> list[R]:
        return [
            r
            for r in self.replies
            if isinstance(r, kind) and order_id in (None, getattr(r, "order_id", None))
        ]

    async def wait_replies(
        self, kind: type[R], count: int, order_id: str | None = None, deadline: float = 20
    ) -> list[R]:
        await wait_until(
            lambda: len(self.replies_of(kind, order_id)) >= count,
            deadline,
            f"{count} {kind.DESCRIPTOR.name} repl{'y' if count == 1 else 'ies'}"
            + (f" for {order_id}" if order_id else ""),
        )
        return self.replies_of(kind, order_id)

    async def wait_reply(self, order_id: str, deadline: float = 20) -> Message:
        """The first reply of any kind about `order_id`."""
        await wait_until(
            lambda: any(getattr(r, "order_id", None) == order_id for r in self.replies),
            deadline,
            f"a reply for {order_id}",
        )
        return next(r for r in self.replies if getattr(r, "order_id", None) == order_id)

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


StartBilling = Callable[..., Awaitable[Billing]]


@pytest.fixture
async def start_billing(
    database_url: str, nats_server: NatsServer, nats_prefix: str
) -> AsyncIterator[StartBilling]:
    """Call with BillingSettings overrides (e.g. `test_failures_enabled=True`) to start one."""
    async with contextlib.AsyncExitStack() as running:

        async def start(**overrides: Any) -> Billing:
            await asyncio.to_thread(migrate, MIGRATIONS, database_url)
            settings = BillingSettings(
                database_url=database_url,
                nats_url=nats_server.url,
                nats_prefix=nats_prefix,
                **{"max_deliver": 3, **overrides},
            )
            service = await running.enter_async_context(
                run_in_process(settings, bootstrap.build, backoff=(0.05, 0.1, 0.2))
            )
            infra = service.infra
            billing = Billing(infra.engine, infra.js, infra.topology, infra.registry)

            async def collect(msg: Msg) -> None:
                kind = REPLY_TYPES.get((msg.headers or {}).get(HEADER_TYPE, ""))
                if kind is not None:
                    billing.replies.append(kind.FromString(msg.data))

            await infra.nats.subscribe(f"{nats_prefix}.billing.evt.>", cb=collect)
            await infra.nats.flush()
            return billing

        yield start


@pytest.fixture
async def billing(start_billing: StartBilling) -> Billing:
    return await start_billing()
