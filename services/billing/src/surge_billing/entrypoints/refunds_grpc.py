"""RefundService over gRPC: credit notes, refunds and order balances (reads only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from surge.billing.v1 import credit_notes_pb2 as pb
from surge.billing.v1 import credit_notes_pb2_grpc as pb_grpc

from surge_billing.service_layer import refunds
from surge_billing.service_layer import refunds_convert as convert
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = ["SERVICE_NAME", "RefundServicer"]

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RefundService"].full_name
Context = grpc.aio.ServicerContext[Any, Any]


class RefundServicer(pb_grpc.RefundServiceServicer):
    def __init__(self, uow_factory: Callable[[], BillingUnitOfWork]) -> None:
        self._uow = uow_factory

    async def GetCreditNote(  # noqa: N802 - gRPC method names
        self, request: pb.GetCreditNoteRequest, context: Context
    ) -> pb.GetCreditNoteResponse:
        async with self._uow() as uow:
            note = await refunds.get_credit_note(uow, request.credit_note_id)
        return pb.GetCreditNoteResponse(credit_note=convert.credit_note_to_proto(note))

    async def ListCreditNotes(  # noqa: N802
        self, request: pb.ListCreditNotesRequest, context: Context
    ) -> pb.ListCreditNotesResponse:
        async with self._uow() as uow:
            notes, token = await refunds.list_credit_notes(uow, request)
        return pb.ListCreditNotesResponse(
            credit_notes=[convert.credit_note_to_proto(n) for n in notes], next_page_token=token
        )

    async def ListRefunds(  # noqa: N802
        self, request: pb.ListRefundsRequest, context: Context
    ) -> pb.ListRefundsResponse:
        async with self._uow() as uow:
            found = await refunds.list_refunds(uow, request.order_id)
        return pb.ListRefundsResponse(refunds=[convert.refund_to_proto(r) for r in found])

    async def GetOrderBalance(  # noqa: N802
        self, request: pb.GetOrderBalanceRequest, context: Context
    ) -> pb.GetOrderBalanceResponse:
        async with self._uow() as uow:
            balance = await refunds.get_balance(uow, request.order_id)
        return pb.GetOrderBalanceResponse(balance=convert.balance_to_proto(balance))
