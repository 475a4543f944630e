"""Order rpcs as plain async functions: place, pay, cancel, retry, and the read side.

Each takes a command and a fresh unit of work (plus the collaborators it needs, wired by
`bootstrap.py`), and commits at most once. Saga messages are handled by `saga.Orchestrator`.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from surge.billing.v1 import billing_pb2
from surge.common.v1 import common_pb2
from surge_platform import errors
from surge_platform.ids import new_id
from surge_platform.messaging import Topology

from surge_order.adapters.order_rows import HistoryRecord, OrderFilter, StepRecord
from surge_order.domain import commands
from surge_order.domain.model import Order, Saga, StatusChange
from surge_order.domain.order import (
    Customer,
    PaymentTerms,
    catalog_violations,
    normalise_phone,
    request_violations,
)
from surge_order.domain.pricing import LinePricing
from surge_order.domain.saga import SagaState
from surge_order.domain.status import OrderStatus
from surge_order.service_layer import promotions
from surge_order.service_layer.ports import Catalog
from surge_order.service_layer.rules import Screening
from surge_order.service_layer.saga import Orchestrator
from surge_order.service_layer.unit_of_work import OrderUnitOfWork

__all__ = [
    "MAX_PAGE_SIZE",
    "OrderPage",
    "OrderView",
    "cancel_order",
    "get_order",
    "list_orders",
    "place_order",
    "record_payment",
    "retry_saga",
]

UowFactory = Callable[[], OrderUnitOfWork]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OrderView:
    order: Order
    saga: Saga | None
    steps: list[StepRecord]
    history: list[HistoryRecord]
    pricing: tuple[LinePricing, ...] = ()  # per line: list price, discounts, final amount


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    next_page_token: str


async def place_order(
    cmd: commands.PlaceOrder,
    uows: UowFactory,
    catalog: Catalog,
    orchestrator: Orchestrator,
    screening: Screening | None = None,
    pricing_cache: promotions.PricingCache | None = None,
) -> tuple[OrderView, bool]:
    """Validate, price from the catalog and insert the order with its saga; idempotent."""
    problems = request_violations(
        client_order_id=cmd.client_order_id,
        channel=cmd.channel,
        customer=cmd.customer,
        address=cmd.address,
        lines=cmd.lines,
        payment_terms=cmd.payment_terms,
    )
    if problems:
        raise errors.InvalidArgument("the order is not valid", problems)
    external_id = cmd.external_id or None
    short = orchestrator.sold_out.short((line.sku, line.quantity) for line in cmd.lines)
    if short:
        # A repeat of an order placed before its SKU sold out still returns that order.
        existing = await _find(uows, cmd.channel, cmd.client_order_id, external_id)
        if existing is not None:
            return await get_order(existing, uows), False
        raise orchestrator.sold_out.refusing(short)
    # Asked outside any transaction: no connection is held while inventory answers. A repeat
    # is caught by the insert's unique keys, so the usual (first) placement costs one transaction.
    items = await catalog.skus(line.sku for line in cmd.lines)
    problems = catalog_violations(cmd.lines, items)
    if problems:
        # A repeat of an order placed before a SKU was withdrawn still returns that order.
        existing = await _find(uows, cmd.channel, cmd.client_order_id, external_id)
        if existing is not None:
            return await get_order(existing, uows), False
        raise errors.InvalidArgument("the order is not valid", problems)
    now = datetime.now(UTC)
    try:
        placement = await promotions.quote(cmd, items, catalog, uows, now, pricing_cache)
    except errors.InvalidArgument:
        # A repeat of an order whose coupon or purchase limit it used up itself.
        existing = await _find(uows, cmd.channel, cmd.client_order_id, external_id)
        if existing is not None:
            return await get_order(existing, uows), False
        raise
    pricing = placement.quote.pricing
    assert cmd.payment_terms is not None
    order = Order(
        id=new_id(),
        client_order_id=cmd.client_order_id,
        channel=cmd.channel,
        external_id=external_id,
        customer=Customer(
            cmd.customer.id,
            cmd.customer.name,
            normalise_phone(cmd.customer.phone) or cmd.customer.phone,
        ),
        address=cmd.address,
        lines=pricing.lines,
        currency=pricing.currency,
        subtotal_minor=pricing.subtotal_minor,
        discount_minor=pricing.discount_minor,
        total_minor=pricing.total_minor,
        payment_terms=cmd.payment_terms,
        status=OrderStatus.RESERVING,
        created_at=now,
        updated_at=now,
        tags=cmd.tags,
        coupon_code=placement.quote.coupon.code if placement.quote.coupon else "",
    )
    order.changes.append(StatusChange(None, OrderStatus.RESERVING, "order placed", now, 1))
    saga = Saga(
        id=new_id(), order_id=order.id, state=SagaState.RUNNING, started_at=now, updated_at=now
    )
    history = [HistoryRecord(None, OrderStatus.RESERVING.value, "order placed", now)]
    if screening is not None:
        await screening.ready()
    async with uows() as uow:
        # The order rules (docs/rules.md) tag it, may hold it for review, and notify.
        outcome = await screening.screen(uow, order, now) if screening else None
        # Nothing to record or redeem: the order and its messages are one statement.
        alone = (outcome is None or outcome.records_nothing) and placement.redeems_nothing
        created = await orchestrator.start(uow, order, saga, now, alone=alone)
        if created:
            if screening is not None and outcome is not None and not outcome.records_nothing:
                await screening.record(uow, order, outcome, now)
            await promotions.redeem(uow, order, placement)
            await uow.commit()
    if not created:  # placed before (or by a concurrent twin)
        existing = await _existing(uows, cmd.channel, cmd.client_order_id, external_id)
        return await get_order(existing, uows), False
    assert saga.current_step is not None
    assert saga.direction is not None
    step = StepRecord(saga.current_step.value, saga.direction.value, "started", 1, now, None, "")
    # What was just written, without reading it back.
    return OrderView(order, saga, [step], history, placement.quote.breakdown), True


async def _find(
    uows: UowFactory, channel: str, client_order_id: str, external_id: str | None
) -> str | None:
    async with uows() as uow:
        return await uow.orders.find_existing(channel, client_order_id, external_id)


async def _existing(
    uows: UowFactory, channel: str, client_order_id: str, external_id: str | None
) -> str:
    found = await _find(uows, channel, client_order_id, external_id)
    if found is None:
        raise errors.Conflict("the order was placed concurrently; retry")
    return found


async def record_payment(
    cmd: commands.RecordPayment, uows: UowFactory, orchestrator: Orchestrator, topology: Topology
) -> OrderView:
    problems: dict[str, str] = {}
    if not cmd.reference.strip():
        problems["reference"] = "is required"
    if not cmd.method.strip():
        problems["method"] = "is required"
    if problems:
        raise errors.InvalidArgument("the payment is not valid", problems)
    async with uows() as uow:
        locked = await uow.orders.lock(_order_id(cmd.order_id))
        if locked is None:
            raise errors.NotFound(f"order {cmd.order_id} does not exist")
        order, saga = locked
        if not await uow.orders.has_payment(order.id, cmd.reference):
            _check_payable(order, cmd)
            now = datetime.now(UTC)
            payment_id = new_id()
            await uow.orders.add_payment(
                payment_id=payment_id,
                order=order,
                amount_minor=cmd.amount_minor,
                method=cmd.method,
                reference=cmd.reference,
                at=now,
            )
            message = billing_pb2.RecordPaymentCommand(
                order_id=order.id,
                customer_id=order.customer.id,
                payment_id=payment_id,
                amount=common_pb2.Money(amount_minor=cmd.amount_minor, currency=cmd.currency),
                method=cmd.method,
                reference=cmd.reference,
            )
            uow.outbox.add(topology.subject_for(message), message)
            order.paid = True
            order.change_status(OrderStatus.PAID, f"payment received ({cmd.method})", now)
            await orchestrator.paid(uow, order, saga, now)
            await orchestrator.save(uow, order, saga)
            await uow.commit()
    return await get_order(order.id, uows)


def _check_payable(order: Order, cmd: commands.RecordPayment) -> None:
    if order.payment_terms is not PaymentTerms.PREPAID:
        raise errors.FailedPrecondition(f"order {order.id} is on account; it is invoiced")
    if order.paid:
        raise errors.FailedPrecondition(f"order {order.id} is already paid")
    if order.status not in (OrderStatus.RESERVING, OrderStatus.PENDING_PAYMENT):
        raise errors.FailedPrecondition(f"order {order.id} is {order.status}; it cannot be paid")
    problems: dict[str, str] = {}
    if cmd.currency != order.currency:
        problems["amount.currency"] = f"must be the order's currency {order.currency}"
    if cmd.amount_minor != order.total_minor:
        problems["amount.amount_minor"] = f"must equal the order total {order.total_minor}"
    if problems:
        raise errors.InvalidArgument("the payment does not match the order", problems)


async def cancel_order(
    cmd: commands.CancelOrder, uows: UowFactory, orchestrator: Orchestrator
) -> OrderView:
    async with uows() as uow:
        locked = await uow.orders.lock(_order_id(cmd.order_id))
        if locked is None:
            raise errors.NotFound(f"order {cmd.order_id} does not exist")
        order, saga = locked
        if order.status is not OrderStatus.CANCELLED:
            reason = cmd.reason.strip() or f"cancelled by {cmd.actor or 'unknown'}"
            await orchestrator.cancel(uow, order, saga, reason, datetime.now(UTC))
            await orchestrator.save(uow, order, saga)
            await uow.commit()
    return await get_order(order.id, uows)


async def retry_saga(
    cmd: commands.RetrySaga, uows: UowFactory, orchestrator: Orchestrator
) -> OrderView:
    async with uows() as uow:
        locked = await uow.orders.lock(_order_id(cmd.order_id))
        if locked is None:
            raise errors.NotFound(f"order {cmd.order_id} does not exist")
        order, saga = locked
        await orchestrator.retry(uow, order, saga, datetime.now(UTC))
        await orchestrator.save(uow, order, saga)
        await uow.commit()
    return await get_order(order.id, uows)


async def get_order(order_id: str, uows: UowFactory) -> OrderView:
    async with uows() as uow:
        found = await uow.orders.get(_order_id(order_id))
        if found is None:
            raise errors.NotFound(f"order {order_id} does not exist")
        order, saga = found
        steps = await uow.orders.steps(saga.id) if saga else []
        history = await uow.orders.history(order.id)
        pricing = await promotions.breakdown(uow, order)
    return OrderView(order, saga, steps, history, pricing)


async def list_orders(query: commands.ListOrders, uows: UowFactory) -> OrderPage:
    if query.page_size < 0:
        raise errors.InvalidArgument("bad page size", {"page_size": "must not be negative"})
    size = min(query.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = _decode_token(query.page_token) if query.page_token else None
    where = OrderFilter(
        status=query.status,
        channel=query.channel,
        customer_id=query.customer_id,
        created_from=query.created_from,
        created_to=query.created_to,
    )
    async with uows() as uow:
        orders = await uow.orders.list(where, after, size + 1)
    if len(orders) <= size:
        return OrderPage(orders, "")
    orders = orders[:size]
    return OrderPage(orders, _encode_token(orders[-1]))


def _order_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.InvalidArgument("bad order id", {"order_id": "must be a UUID"}) from None


def _encode_token(last: Order) -> str:
    micros = (last.created_at - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}:{last.id}".encode()).decode()


def _decode_token(token: str) -> tuple[datetime, str]:
    try:
        micros, order_id = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        at = _EPOCH + timedelta(microseconds=int(micros))
        return at, str(uuid.UUID(order_id))
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise errors.InvalidArgument(
            "bad page token", {"page_token": "is not a token this service issued"}
        ) from None
