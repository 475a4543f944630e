"""The generated contracts keep the promises in DESIGN.md and the buf style guide."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from surge.billing.v1 import billing_pb2, billing_pb2_grpc
from surge.common.v1 import common_pb2
from surge.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc
from surge.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from surge.order.v1 import order_pb2, order_pb2_grpc

PB2_MODULES: tuple[ModuleType, ...] = (
    common_pb2,
    inventory_pb2,
    fulfillment_pb2,
    billing_pb2,
    order_pb2,
)

# The saga's wire contract: commands sent by the order service and the replies and events that
# come back over NATS. Renaming or dropping one of these breaks a running saga.
SAGA_MESSAGES: tuple[type[Message], ...] = (
    inventory_pb2.ReserveStockCommand,
    inventory_pb2.StockReserved,
    inventory_pb2.StockRejected,
    inventory_pb2.CommitReservationCommand,
    inventory_pb2.ReservationCommitted,
    inventory_pb2.ReleaseStockCommand,
    inventory_pb2.StockReleased,
    inventory_pb2.ConfirmReservationCommand,
    inventory_pb2.ReservationConfirmed,
    inventory_pb2.ReservationExpired,
    fulfillment_pb2.CreateShipmentsCommand,
    fulfillment_pb2.ShipmentsCreated,
    fulfillment_pb2.ShipmentsRejected,
    fulfillment_pb2.CancelShipmentsCommand,
    fulfillment_pb2.ShipmentsCancelled,
    fulfillment_pb2.ShipmentDispatched,
    fulfillment_pb2.ShipmentDelivered,
    billing_pb2.IssueInvoiceCommand,
    billing_pb2.InvoiceIssued,
    billing_pb2.InvoiceRejected,
    billing_pb2.VoidInvoiceCommand,
    billing_pb2.InvoiceVoided,
    billing_pb2.PaymentRecorded,
    order_pb2.OrderStatusChanged,
)

EXPECTED_RPCS: dict[str, tuple[ModuleType, ModuleType, frozenset[str]]] = {
    "InventoryService": (
        inventory_pb2,
        inventory_pb2_grpc,
        frozenset(
            {
                "CreateSku",
                "GetSku",
                "BatchGetSkus",
                "ListWarehouses",
                "GetStock",
                "ListStock",
                "AdjustStock",
                "GetReservation",
            }
        ),
    ),
    "FulfillmentService": (
        fulfillment_pb2,
        fulfillment_pb2_grpc,
        frozenset({"GetShipment", "ListShipments", "DispatchShipment", "ConfirmDelivery"}),
    ),
    "BillingService": (
        billing_pb2,
        billing_pb2_grpc,
        frozenset({"GetInvoice", "ListInvoices", "RecordPayment", "SetCreditLimit", "GetCredit"}),
    ),
    "OrderService": (
        order_pb2,
        order_pb2_grpc,
        frozenset(
            {
                "PlaceOrder",
                "GetOrder",
                "ListOrders",
                "CancelOrder",
                "RecordPayment",
                "RetrySaga",
                "ListSagas",
                "CompensateSaga",
            }
        ),
    ),
}


def _all_messages() -> Iterator[Descriptor]:
    def walk(descriptor: Descriptor) -> Iterator[Descriptor]:
        yield descriptor
        for nested in descriptor.nested_types:
            yield from walk(nested)

    for module in PB2_MODULES:
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            yield from walk(descriptor)


def _all_enums() -> Iterator[EnumDescriptor]:
    for module in PB2_MODULES:
        yield from module.DESCRIPTOR.enum_types_by_name.values()
    for message in _all_messages():
        yield from message.enum_types


def _screaming_snake(name: str) -> str:
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(name)).upper()


_SCALAR_SAMPLES: dict[int, Callable[[str], Any]] = {
    FieldDescriptor.TYPE_STRING: lambda name: f"{name}-sample",
    FieldDescriptor.TYPE_BYTES: lambda name: name.encode(),
    FieldDescriptor.TYPE_BOOL: lambda _name: True,
    FieldDescriptor.TYPE_INT32: lambda _name: -7,
    FieldDescriptor.TYPE_INT64: lambda _name: 9_007_199_254_740_993,  # beyond float precision
    FieldDescriptor.TYPE_UINT32: lambda _name: 7,
    FieldDescriptor.TYPE_UINT64: lambda _name: 7,
}


def _fill(message: Message, depth: int = 0) -> None:
    """Set every field of `message` (recursively) to a non-default value."""
    for field in message.DESCRIPTOR.fields:
        repeated = field.is_repeated
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key, value = (
                field.message_type.fields_by_name["key"],
                field.message_type.fields_by_name["value"],
            )
            entries = getattr(message, field.name)
            entries[_SCALAR_SAMPLES[key.type](field.name)] = _SCALAR_SAMPLES[value.type](field.name)
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth > 3:
                continue
            if repeated:
                for _ in range(2):
                    _fill(getattr(message, field.name).add(), depth + 1)
            else:
                _fill(getattr(message, field.name), depth + 1)
            continue
        if field.enum_type is not None:
            value: Any = field.enum_type.values[-1].number
        else:
            value = _SCALAR_SAMPLES[field.type](field.name)
        if repeated:
            getattr(message, field.name).extend([value, value])
        else:
            setattr(message, field.name, value)


@pytest.mark.parametrize("message_type", SAGA_MESSAGES, ids=lambda m: m.DESCRIPTOR.full_name)
def test_saga_message_round_trips_every_field(message_type: type[Message]) -> None:
    original = message_type()
    _fill(original)

    parsed = message_type.FromString(original.SerializeToString())

    assert parsed == original
    assert {f.name for f, _ in parsed.ListFields()} == {f.name for f in parsed.DESCRIPTOR.fields}


def test_saga_commands_and_replies_carry_the_order_id() -> None:
    missing = [
        m.DESCRIPTOR.full_name
        for m in SAGA_MESSAGES
        if "order_id" not in m.DESCRIPTOR.fields_by_name
    ]

    assert missing == []


def test_saga_commands_carry_the_saga_id_for_idempotency() -> None:
    commands = [
        m
        for m in SAGA_MESSAGES
        if m.DESCRIPTOR.name.endswith("Command")
        and m is not inventory_pb2.ConfirmReservationCommand
    ]

    missing = [
        m.DESCRIPTOR.full_name for m in commands if "saga_id" not in m.DESCRIPTOR.fields_by_name
    ]

    assert len(commands) == 7
    assert missing == []


@pytest.mark.parametrize("enum", list(_all_enums()), ids=lambda e: e.full_name)
def test_enum_zero_value_is_unspecified_and_values_are_prefixed(enum: EnumDescriptor) -> None:
    prefix = _screaming_snake(enum.name) + "_"

    assert enum.values_by_number[0].name == f"{prefix}UNSPECIFIED"
    assert [v.name for v in enum.values if not v.name.startswith(prefix)] == []


def test_no_message_uses_floating_point_fields() -> None:
    floats = [
        f"{message.full_name}.{field.name}"
        for message in _all_messages()
        for field in message.fields
        if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE)
    ]

    assert floats == []


def test_money_is_integer_minor_units_and_currency() -> None:
    fields = {f.name: f.type for f in common_pb2.Money.DESCRIPTOR.fields}

    assert fields == {
        "amount_minor": FieldDescriptor.TYPE_INT64,
        "currency": FieldDescriptor.TYPE_STRING,
    }


def test_every_at_field_is_a_timestamp() -> None:
    timestamp = timestamp_pb2.Timestamp.DESCRIPTOR
    wrong = [
        f"{message.full_name}.{field.name}"
        for message in _all_messages()
        for field in message.fields
        if field.name.endswith("_at") or field.name == "at"
        if field.message_type is not timestamp
    ]

    assert wrong == []


@pytest.mark.parametrize("service_name", sorted(EXPECTED_RPCS))
def test_service_exposes_expected_rpcs_with_standard_names(service_name: str) -> None:
    pb2, _, expected = EXPECTED_RPCS[service_name]
    service = pb2.DESCRIPTOR.services_by_name[service_name]

    assert {m.name for m in service.methods} == expected
    for method in service.methods:
        assert method.input_type.name == f"{method.name}Request"
        assert method.output_type.name == f"{method.name}Response"
        assert not method.client_streaming
        assert not method.server_streaming


class _RecordingChannel:
    """Stands in for a grpc channel: records the method paths a stub registers."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def unary_unary(self, path: str, *_args: object, **_kwargs: object) -> Callable[..., None]:
        self.paths.append(path)
        return lambda *_a, **_k: None


@pytest.mark.parametrize("service_name", sorted(EXPECTED_RPCS))
def test_generated_stub_and_servicer_cover_every_rpc(service_name: str) -> None:
    pb2, grpc_module, expected = EXPECTED_RPCS[service_name]
    package = pb2.DESCRIPTOR.package
    channel = _RecordingChannel()

    stub = getattr(grpc_module, f"{service_name}Stub")(channel)
    servicer = getattr(grpc_module, f"{service_name}Servicer")

    assert sorted(channel.paths) == sorted(f"/{package}.{service_name}/{rpc}" for rpc in expected)
    for rpc in expected:
        assert callable(getattr(stub, rpc))
        assert callable(getattr(servicer, rpc))
    assert callable(getattr(grpc_module, f"add_{service_name}Servicer_to_server"))
