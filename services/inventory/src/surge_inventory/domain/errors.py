"""Domain failures, stdlib only; the service layer maps them to `surge_platform.errors`."""

from __future__ import annotations

__all__ = ["ReservationStateError", "UnknownWarehouseForReservation"]


class ReservationStateError(Exception):
    """A reservation was asked for a transition its state does not allow."""

    def __init__(self, reservation_id: str, current: object, requested: object) -> None:
        super().__init__(f"reservation {reservation_id} cannot go from {current} to {requested}")
        self.reservation_id = reservation_id
        self.current = current
        self.requested = requested


class UnknownWarehouseForReservation(Exception):
    """A dispatch named a warehouse the reservation holds nothing in."""

    def __init__(self, order_id: str, warehouse: str) -> None:
        super().__init__(f"order {order_id} holds no stock in warehouse {warehouse!r}")
        self.order_id = order_id
        self.warehouse = warehouse
