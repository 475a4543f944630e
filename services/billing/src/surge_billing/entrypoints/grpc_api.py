"""BillingService over gRPC: request -> handler or query -> response. Domain errors become
status codes in the platform interceptor (`surge_platform.grpc.STATUS_BY_ERROR`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from surge.billing.v1 import billing_pb2, billing_pb2_grpc
from surge_platform import errors

from surge_billing.service_layer import convert, handlers, queries
from surge_billing.service_layer.unit_of_work import BillingUnitOfWork

__all__ = ["BillingServicer"]

Context = grpc.aio.ServicerContext[Any, Any]


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    def __init__(
        self, uow_factory: Callable[[], BillingUnitOfWork], ctx: handlers.HandlerContext
    ) -> None:
        self._uow = uow_factory
        self._ctx = ctx

    async def GetInvoice(  # noqa: N802 - gRPC method names
        self, request: billing_pb2.GetInvoiceRequest, context: Context
    ) -> billing_pb2.GetInvoiceResponse:
        async with self._uow() as uow:
            invoice = await queries.get_invoice(uow, request.invoice_id)
        return billing_pb2.GetInvoiceResponse(invoice=convert.invoice_to_proto(invoice))

    async def ListInvoices(  # noqa: N802
        self, request: billing_pb2.ListInvoicesRequest, context: Context
    ) -> billing_pb2.ListInvoicesResponse:
        try:
            status = convert.status_from_proto(request.status)
        except KeyError:
            raise errors.InvalidArgument(
                "unknown invoice status", {"status": f"unknown value {request.status}"}
            ) from None
        async with self._uow() as uow:
            page = await queries.list_invoices(
                uow,
                order_id=request.order_id,
                customer_id=request.customer_id,
                status=status,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return billing_pb2.ListInvoicesResponse(
            invoices=[convert.invoice_to_proto(invoice) for invoice in page.invoices],
            next_page_token=page.next_page_token,
        )

    async def RecordPayment(  # noqa: N802
        self, request: billing_pb2.RecordPaymentRequest, context: Context
    ) -> billing_pb2.RecordPaymentResponse:
        async with self._uow() as uow:
            payment = await handlers.record_payment(request, uow, ctx=self._ctx)
        return billing_pb2.RecordPaymentResponse(payment=convert.payment_to_proto(payment))

    async def SetCreditLimit(  # noqa: N802
        self, request: billing_pb2.SetCreditLimitRequest, context: Context
    ) -> billing_pb2.SetCreditLimitResponse:
        async with self._uow() as uow:
            credit = await handlers.set_credit_limit(request, uow, ctx=self._ctx)
        return billing_pb2.SetCreditLimitResponse(credit=convert.credit_to_proto(credit))

    async def GetCredit(  # noqa: N802
        self, request: billing_pb2.GetCreditRequest, context: Context
    ) -> billing_pb2.GetCreditResponse:
        async with self._uow() as uow:
            credit = await queries.get_credit(uow, self._ctx.policy, request.customer_id)
        return billing_pb2.GetCreditResponse(credit=convert.credit_to_proto(credit))
