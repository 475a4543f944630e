"""Inventory failures as the platform error types, so every edge maps them the same way."""

from __future__ import annotations

from surge_platform import errors

__all__ = [
    "DuplicateDelivery",
    "InsufficientFreeStock",
    "ReservationNotFound",
    "SkuExists",
    "SkuNotFound",
    "WarehouseNotFound",
]


class SkuNotFound(errors.NotFound):
    def __init__(self, sku: str) -> None:
        super().__init__(f"SKU {sku!r} does not exist")


class WarehouseNotFound(errors.NotFound):
    def __init__(self, warehouse: str) -> None:
        super().__init__(f"warehouse {warehouse!r} does not exist")


class SkuExists(errors.AlreadyExists):
    def __init__(self, sku: str) -> None:
        super().__init__(f"SKU {sku!r} already exists")


class ReservationNotFound(errors.NotFound):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} has no reservation")


class InsufficientFreeStock(errors.FailedPrecondition):
    def __init__(self, sku: str, warehouse: str, quantity: int) -> None:
        super().__init__(
            f"cannot remove {-quantity} units of {sku!r} from {warehouse!r}: "
            "on_hand would drop below the reserved units"
        )


class DuplicateDelivery(errors.Conflict):
    """A concurrent delivery of the same order's command won; the redelivery will replay it."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} was decided by a concurrent delivery")
