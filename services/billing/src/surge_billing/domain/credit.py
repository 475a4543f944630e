"""Customer credit for ON_ACCOUNT orders: limit, what is used, and whether an invoice fits."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Credit"]


@dataclass(frozen=True)
class Credit:
    """A customer's credit in one currency, in minor units.

    `used` is the total of the customer's issued, unpaid ON_ACCOUNT invoices. `available` is
    negative when a limit was lowered below what is already used.
    """

    customer_id: str
    limit_minor: int
    used_minor: int
    currency: str

    @property
    def available_minor(self) -> int:
        return self.limit_minor - self.used_minor

    def allows(self, amount_minor: int) -> bool:
        """True if an invoice of `amount_minor` keeps used credit within the limit. A free
        invoice adds no debt, so it fits even when the limit was lowered below the use."""
        return amount_minor <= 0 or self.used_minor + amount_minor <= self.limit_minor

    def refusal(self, amount_minor: int) -> str:
        """Why an invoice of `amount_minor` does not fit, in words a finance user can act on."""
        return (
            f"credit limit exceeded for customer {self.customer_id}: invoice "
            f"{_money(amount_minor, self.currency)} + used {_money(self.used_minor, self.currency)}"
            f" > limit {_money(self.limit_minor, self.currency)}"
            f" (available {_money(self.available_minor, self.currency)})"
        )


def _money(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{sign}{currency} {units:,}.{cents:02d}"
