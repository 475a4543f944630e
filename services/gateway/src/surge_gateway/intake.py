"""Placing an order from any intake path (REST or channel webhook), with duplicate flagging.

Duplicates (issue 4): the same (channel, external id) returns the existing order (the order
service is idempotent on (channel, client_order_id), and we use the external id as that key);
the same phone with the same SKUs within the window from any channel is accepted but tagged
`possible_duplicate`, which the order service holds in `pending_review`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from surge.common.v1 import common_pb2
from surge.order.v1 import order_pb2

from surge_gateway.admission import AdmissionController
from surge_gateway.convert import payment_terms_value
from surge_gateway.downstream import Downstream
from surge_gateway.idempotency import IntakeEntry
from surge_gateway.metrics import GatewayMetrics
from surge_gateway.schemas import OrderCreate

__all__ = ["POSSIBLE_DUPLICATE", "IntakeLog", "Placed", "Placer", "normalise_phone"]

POSSIBLE_DUPLICATE = "possible_duplicate"


class IntakeLog(Protocol):
    async def record(
        self, channel: str, identity: str, phone_hash: str, skus: str, window: timedelta
    ) -> bool: ...

    async def forget(self, channel: str, identity: str) -> None: ...


def normalise_phone(phone: str) -> str:
    """Digits only, mainland mobile numbers with their +86 country code: one form per phone."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        digits = "86" + digits
    return digits


def phone_hash(phone: str) -> str:
    return hashlib.sha256(normalise_phone(phone).encode()).hexdigest()


@dataclass(frozen=True)
class Placed:
    order: order_pb2.Order
    created: bool

    @property
    def possible_duplicate(self) -> bool:
        return POSSIBLE_DUPLICATE in self.order.tags


@dataclass
class Placer:
    downstream: Downstream
    admission: AdmissionController
    intake_log: IntakeLog
    metrics: GatewayMetrics
    duplicate_window: timedelta

    def entry(self, order: OrderCreate, *, client_order_id: str) -> IntakeEntry:
        """The order's intake-log entry: what `place` records, or what the claim of its
        Idempotency-Key recorded already (`Claim.duplicate`)."""
        return IntakeEntry(
            order.channel,
            order.external_id or client_order_id,
            phone_hash(order.customer.phone),
            ",".join(sorted({line.sku for line in order.lines})),
            self.duplicate_window,
        )

    async def place(
        self,
        order: OrderCreate,
        *,
        customer_id: str,
        client_order_id: str,
        entry: IntakeEntry,
        duplicate: bool | None = None,
    ) -> Placed:
        """Admit, flag possible duplicates, and call PlaceOrder (503 when shedding).

        `entry`: `self.entry(order)`; `duplicate`: what recording it found, when the claim of
        the order's Idempotency-Key did; None records it here."""
        recorded = duplicate is not None
        try:
            async with self.admission.admit():
                if duplicate is None:
                    duplicate = await self.intake_log.record(
                        entry.channel, entry.identity, entry.phone_hash, entry.skus, entry.window
                    )
                    recorded = True
                response = await self.downstream.orders.PlaceOrder(
                    _request(order, customer_id, client_order_id, duplicate=duplicate),
                    timeout=self.downstream.place_timeout,
                )
        except BaseException:
            # Not placed (shed, failed, cancelled): the entry must not flag a later order.
            if recorded:
                await self.intake_log.forget(entry.channel, entry.identity)
            raise
        placed = Placed(order=response.order, created=response.created)
        if placed.created:
            self.metrics.orders_accepted.labels(
                order.channel, str(placed.possible_duplicate).lower()
            ).inc()
        return placed


def _request(
    order: OrderCreate, customer_id: str, client_order_id: str, *, duplicate: bool
) -> order_pb2.PlaceOrderRequest:
    address = order.shipping_address
    return order_pb2.PlaceOrderRequest(
        client_order_id=client_order_id,
        channel=order.channel,
        external_id=order.external_id or "",
        customer=common_pb2.Customer(
            id=customer_id, name=order.customer.name, phone=order.customer.phone
        ),
        shipping_address=common_pb2.Address(
            province=address.province,
            city=address.city,
            district=address.district,
            line1=address.line1,
            postal_code=address.postal_code,
        ),
        lines=[
            order_pb2.PlaceOrderLine(sku=line.sku, quantity=line.quantity) for line in order.lines
        ],
        payment_terms=payment_terms_value(order.payment_terms),  # type: ignore[arg-type]
        coupon_code=order.coupon_code or "",
        tags=[POSSIBLE_DUPLICATE] if duplicate else [],
    )
