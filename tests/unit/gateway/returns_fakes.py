"""Fake ReturnService and RefundService stubs for gateway unit tests: one return (`ret-1`) and
one credit note (`cn-1`) of alice's order, seeded; actions answer with the state they lead to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from surge.billing.v1 import credit_notes_pb2 as cn
from surge.common.v1 import common_pb2
from surge.order.v1 import returns_pb2 as rp

from tests.unit.gateway.fakes import rpc_error

ORDER = "0193-0001"


def _money(amount: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount, currency="CNY")


def _return(return_id: str, order_id: str = ORDER, customer_id: str = "alice") -> rp.OrderReturn:
    r = rp.OrderReturn(
        id=return_id,
        order_id=order_id,
        customer_id=customer_id,
        kind=rp.RETURN_KIND_RETURN,
        state=rp.RETURN_STATE_REQUESTED,
        reason="broken",
        lines=[rp.ReturnLine(sku="TEA-1", quantity=1, amount=_money(1000))],
        amount=_money(1000),
    )
    r.requested_at.GetCurrentTime()
    return r


@dataclass
class FakeReturns:
    returns: dict[str, rp.OrderReturn] = field(default_factory=lambda: {"ret-1": _return("ret-1")})
    requests: list[rp.RequestReturnRequest] = field(default_factory=list)

    def _get(self, return_id: str) -> rp.OrderReturn:
        if return_id not in self.returns:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, f"return {return_id} does not exist")
        return self.returns[return_id]

    def _with(self, return_id: str, state: rp.ReturnState.ValueType) -> rp.OrderReturn:
        changed = rp.OrderReturn()
        changed.CopyFrom(self._get(return_id))
        changed.state = state
        return changed

    async def RequestReturn(self, request: Any, timeout: float) -> Any:  # noqa: N802
        self.requests.append(request)
        if any(line.sku != "TEA-1" for line in request.lines):
            raise rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "units already returned")
        created = _return(f"ret-{len(self.returns) + 1}", request.order_id)
        self.returns[created.id] = created
        return rp.RequestReturnResponse(order_return=created)

    async def GetReturn(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return rp.GetReturnResponse(order_return=self._get(request.return_id))

    async def ListReturns(self, request: Any, timeout: float) -> Any:  # noqa: N802
        found = [r for r in self.returns.values() if r.order_id == request.order_id]
        return rp.ListReturnsResponse(returns=found)

    async def ApproveReturn(self, request: Any, timeout: float) -> Any:  # noqa: N802
        changed = self._with(request.return_id, rp.RETURN_STATE_APPROVED)
        return rp.ApproveReturnResponse(order_return=changed)

    async def RejectReturn(self, request: Any, timeout: float) -> Any:  # noqa: N802
        changed = self._with(request.return_id, rp.RETURN_STATE_REJECTED)
        return rp.RejectReturnResponse(order_return=changed)

    async def ReceiveReturn(self, request: Any, timeout: float) -> Any:  # noqa: N802
        changed = self._with(request.return_id, rp.RETURN_STATE_RECEIVED)
        return rp.ReceiveReturnResponse(order_return=changed)


@dataclass
class FakeRefunds:
    async def GetCreditNote(self, request: Any, timeout: float) -> Any:  # noqa: N802
        if request.credit_note_id != "cn-1":
            raise rpc_error(grpc.StatusCode.NOT_FOUND, "no such credit note")
        note = cn.CreditNote(
            id="cn-1",
            number="CN-2026-000001",
            invoice_id="inv-1",
            invoice_number="INV-2026-000001",
            order_id=ORDER,
            customer_id="alice",
            return_id="ret-1",
            reason="broken",
            lines=[cn.CreditNoteLine(sku="TEA-1", quantity=1, amount=_money(1000))],
            total=_money(1000),
        )
        return cn.GetCreditNoteResponse(credit_note=note)

    async def GetOrderBalance(self, request: Any, timeout: float) -> Any:  # noqa: N802
        return cn.GetOrderBalanceResponse(
            balance=cn.OrderBalance(
                order_id=request.order_id,
                invoiced=_money(2000),
                credited=_money(1000),
                paid=_money(2000),
                refunded=_money(1000),
                balance=_money(0),
            )
        )
