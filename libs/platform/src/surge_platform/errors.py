"""Domain error base classes, shared by every service's domain layer.

Stdlib only: domain packages may import this module. Each error class names the gRPC status it
maps to (`surge_platform.grpc.STATUS_BY_ERROR`) and the gateway maps that status to HTTP, so one
table decides how a business failure looks at every edge.

    class SkuNotFound(NotFound):
        def __init__(self, sku: str) -> None:
            super().__init__(f"SKU {sku!r} does not exist")
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "AlreadyExists",
    "Conflict",
    "DomainError",
    "FailedPrecondition",
    "InvalidArgument",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
]


class DomainError(Exception):
    """Base of every expected business failure; `message` is safe to show to a client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know it exists)."""


class AlreadyExists(DomainError):
    """Creating something that already exists under the same natural key."""


class InvalidArgument(DomainError):
    """Input that can never succeed; `field_violations` maps a field path to what is wrong."""

    def __init__(self, message: str, field_violations: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.field_violations: dict[str, str] = dict(field_violations or {})


class FailedPrecondition(DomainError):
    """The request is valid but the system is not in a state that allows it."""


class InvalidTransition(FailedPrecondition):
    """A state machine was asked for a transition its table does not allow."""

    def __init__(self, entity: str, current: object, requested: object) -> None:
        super().__init__(f"{entity} cannot go from {current} to {requested}")
        self.current = current
        self.requested = requested


class Conflict(DomainError):
    """A concurrent change won; the caller may retry with fresh state."""


class PermissionDenied(DomainError):
    """The caller is known but not allowed to do this."""


class ResourceExhausted(DomainError):
    """A limit was reached (credit limit, purchase limit, quota)."""
