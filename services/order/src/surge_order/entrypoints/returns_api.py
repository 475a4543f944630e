"""ReturnService over gRPC: request -> `Returns` -> response, plus the proto mapping of a return.

Domain errors become status codes in the platform interceptor (FailedPrecondition for an
over-refund or a closed window, InvalidArgument with per-field details for a bad request).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from surge.common.v1 import common_pb2
from surge.order.v1 import returns_pb2 as pb
from surge.order.v1 import returns_pb2_grpc as pb_grpc
from surge_platform import errors
from surge_platform.logging import get_logger

from surge_order.domain.returns import Return, ReturnKind
from surge_order.service_layer.returns import Returns, UowFactory

__all__ = ["SERVICE_NAME", "ReturnServicer", "return_to_pb"]

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ReturnService"].full_name
Context = grpc.aio.ServicerContext[Any, Any]
_audit = get_logger("surge.audit")
_KINDS = {
    pb.RETURN_KIND_RETURN: ReturnKind.RETURN,
    pb.RETURN_KIND_REFUND_ONLY: ReturnKind.REFUND_ONLY,
}


def _timestamp(at: datetime | None) -> Timestamp | None:
    if at is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def return_to_pb(ret: Return) -> pb.OrderReturn:
    c = ret.currency
    return pb.OrderReturn(
        id=ret.id,
        order_id=ret.order_id,
        customer_id=ret.customer_id,
        kind=f"RETURN_KIND_{ret.kind.value.upper()}",
        state=f"RETURN_STATE_{ret.state.value.upper()}",
        reason=ret.reason,
        lines=[
            pb.ReturnLine(
                sku=ln.sku,
                quantity=ln.quantity,
                resellable_quantity=ln.resellable,
                damaged_quantity=ln.damaged,
                amount=common_pb2.Money(amount_minor=ln.amount_minor, currency=c),
            )
            for ln in ret.lines
        ],
        amount=common_pb2.Money(amount_minor=ret.amount_minor, currency=c),
        requested_by=ret.requested_by,
        note=ret.note,
        step=ret.step.value if ret.step else "",
        credit_note_id=ret.credit_note_id,
        credit_note_number=ret.credit_note_number,
        failure_reason=ret.failure_reason,
        requested_at=_timestamp(ret.requested_at),
        decided_at=_timestamp(ret.decided_at),
        received_at=_timestamp(ret.received_at),
        refunded_at=_timestamp(ret.refunded_at),
        escalated_at=_timestamp(ret.escalated_at),
    )


class ReturnServicer(pb_grpc.ReturnServiceServicer):
    def __init__(self, uows: UowFactory, returns: Returns) -> None:
        self._uows = uows
        self._returns = returns

    async def RequestReturn(  # noqa: N802 - gRPC method names
        self, request: pb.RequestReturnRequest, context: Context
    ) -> pb.RequestReturnResponse:
        ret = await self._returns.request(
            self._uows,
            order_id=request.order_id,
            kind=_KINDS.get(request.kind),
            reason=request.reason,
            lines=[(ln.sku, ln.quantity) for ln in request.lines],
            actor=request.actor,
        )
        return pb.RequestReturnResponse(order_return=return_to_pb(ret))

    async def GetReturn(  # noqa: N802
        self, request: pb.GetReturnRequest, context: Context
    ) -> pb.GetReturnResponse:
        view = await self._returns.get(self._uows, request.return_id)
        return pb.GetReturnResponse(order_return=return_to_pb(view.ret))

    async def ListReturns(  # noqa: N802
        self, request: pb.ListReturnsRequest, context: Context
    ) -> pb.ListReturnsResponse:
        found = await self._returns.of_order(self._uows, request.order_id)
        return pb.ListReturnsResponse(returns=[return_to_pb(r) for r in found])

    async def ApproveReturn(  # noqa: N802
        self, request: pb.ApproveReturnRequest, context: Context
    ) -> pb.ApproveReturnResponse:
        ret = await self._returns.approve(
            self._uows, request.return_id, request.actor or "unknown", request.note
        )
        _audit.info("return approved", return_id=ret.id, actor=request.actor)
        return pb.ApproveReturnResponse(order_return=return_to_pb(ret))

    async def RejectReturn(  # noqa: N802
        self, request: pb.RejectReturnRequest, context: Context
    ) -> pb.RejectReturnResponse:
        ret = await self._returns.reject(
            self._uows, request.return_id, request.actor or "unknown", request.note
        )
        _audit.info("return rejected", return_id=ret.id, actor=request.actor, note=request.note)
        return pb.RejectReturnResponse(order_return=return_to_pb(ret))

    async def ReceiveReturn(  # noqa: N802
        self, request: pb.ReceiveReturnRequest, context: Context
    ) -> pb.ReceiveReturnResponse:
        inspected: dict[str, tuple[int, int]] = {}
        for i, line in enumerate(request.lines):
            if line.sku in inspected:
                raise errors.InvalidArgument(
                    "the inspection is not valid", {f"lines[{i}].sku": "duplicate SKU"}
                )
            inspected[line.sku] = (line.resellable_quantity, line.damaged_quantity)
        ret = await self._returns.receive(
            self._uows, request.return_id, request.actor or "unknown", inspected
        )
        _audit.info("return received", return_id=ret.id, actor=request.actor)
        return pb.ReceiveReturnResponse(order_return=return_to_pb(ret))
