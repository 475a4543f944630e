"""Bulk import of historical or offline orders: validate every row, group lines into orders,
record valid orders in bounded batches.

One row is one order line. Rows that share `order_ref` (the channel's own order id) and sit next
to each other form one order; a row without `order_ref` is an order by itself. The order's
idempotency key (`client_order_id`) is `import:<order_ref>` when the file names the order, else
`import:<sha256 of the file>:<first row>`, so importing the same file again creates nothing.

These orders already happened elsewhere (a shop till, the old system): they are recorded as they
are, in a final status (delivered, completed or cancelled), without a saga and without
announcing them, since nothing is left to reserve, ship or invoice. See docs/finance.md.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

__all__ = [
    "COLUMNS",
    "ImportLine",
    "ImportOrder",
    "ImportReport",
    "RowError",
    "import_rows",
    "parse_line",
]

COLUMNS = (
    "order_ref",
    "channel",
    "placed_at",
    "customer_id",
    "customer_name",
    "customer_phone",
    "province",
    "city",
    "district",
    "line1",
    "postal_code",
    "sku",
    "name",
    "quantity",
    "unit_price",
    "line_discount",
    "currency",
    "payment_terms",
    "status",
)
REQUIRED = ("channel", "placed_at", "customer_id", "sku", "quantity", "unit_price", "currency")
STATUSES = ("delivered", "completed", "cancelled")
TERMS = ("prepaid", "on_account")
MAX_QUANTITY = 10_000
# Columns every line of one order must agree on.
ORDER_COLUMNS = ("channel", "customer_id", "placed_at", "currency", "payment_terms", "status")

_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_TEXT_LIMITS = {"order_ref": 64, "customer_id": 128, "sku": 64, "name": 200}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    error: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "error": self.error}


@dataclass(frozen=True)
class ImportLine:
    row: int
    order_ref: str
    channel: str
    placed_at: datetime
    customer_id: str
    customer_name: str
    customer_phone: str
    address: tuple[str, str, str, str, str]
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    currency: str
    payment_terms: str
    status: str

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor - self.discount_minor


@dataclass
class ImportOrder:
    """Lines of one order, in file order; its key is fixed by the first line."""

    client_order_id: str
    lines: list[ImportLine]

    @property
    def first(self) -> ImportLine:
        return self.lines[0]


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    orders: int = 0
    valid_orders: int = 0
    created: int = 0
    existing: int = 0
    invalid_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    max_errors: int = 1000

    def add_error(self, error: RowError) -> None:
        # The count is exact; the list is capped so a file of bad rows cannot exhaust memory.
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(error)

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "orders": self.orders,
            "valid_orders": self.valid_orders,
            "created": self.created,
            "existing": self.existing,
            "invalid_rows": self.invalid_rows,
            "errors": [e.as_dict() for e in self.errors],
            "error_count": self.error_count,
            "errors_truncated": self.error_count > len(self.errors),
        }


def _money(text: str) -> int:
    """'12.5' -> 1250. Raises ValueError for anything but a non-negative amount with at most
    two decimals (currencies with other minor units are not imported)."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("must be a number like 12.50") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be a number >= 0")
    minor = amount * 100
    if minor != minor.to_integral_value():
        raise ValueError("at most two decimals")
    return int(minor)


def _when(text: str, now: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an ISO 8601 time like 2026-11-11T09:30:00+08:00") from None
    # A time without an offset is read as UTC: the file format says so (docs/finance.md).
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at > now:
        raise ValueError("must not be in the future")
    return at


def parse_line(row: int, raw: dict[str, str], now: datetime) -> ImportLine | list[RowError]:
    """One row checked column by column: a line, or every problem found in the row."""
    problems: list[RowError] = []

    def bad(column: str, error: str) -> None:
        problems.append(RowError(row, column, error))

    for column in REQUIRED:
        if not raw.get(column):
            bad(column, "is required")
    for column, limit in _TEXT_LIMITS.items():
        if len(raw.get(column, "")) > limit:
            bad(column, f"at most {limit} characters")
    channel = raw.get("channel", "")
    if channel and not _CHANNEL.match(channel):
        bad("channel", "lower-case letters, digits, '-' or '_', at most 32")
    quantity = 0
    if raw.get("quantity"):
        try:
            quantity = int(raw["quantity"])
        except ValueError:
            bad("quantity", "must be a whole number")
        else:
            if not 1 <= quantity <= MAX_QUANTITY:
                bad("quantity", f"must be between 1 and {MAX_QUANTITY}")
    prices: dict[str, int] = {}
    for column in ("unit_price", "line_discount"):
        if raw.get(column):
            try:
                prices[column] = _money(raw[column])
            except ValueError as exc:
                bad(column, str(exc))
    unit, discount = prices.get("unit_price", 0), prices.get("line_discount", 0)
    if discount > quantity * unit and "unit_price" in prices and quantity > 0:
        bad("line_discount", "must not exceed quantity x unit_price")
    currency = raw.get("currency", "")
    if currency and not _CURRENCY.match(currency):
        bad("currency", "must be an ISO 4217 code like CNY")
    terms = raw.get("payment_terms") or "prepaid"
    if terms not in TERMS:
        bad("payment_terms", f"must be one of {', '.join(TERMS)}")
    status = raw.get("status") or "completed"
    if status not in STATUSES:
        bad("status", f"must be one of {', '.join(STATUSES)}")
    placed_at = now
    if raw.get("placed_at"):
        try:
            placed_at = _when(raw["placed_at"], now)
        except ValueError as exc:
            bad("placed_at", str(exc))
    if problems:
        return problems
    return ImportLine(
        row=row,
        order_ref=raw.get("order_ref", ""),
        channel=channel,
        placed_at=placed_at,
        customer_id=raw["customer_id"],
        customer_name=raw.get("customer_name", ""),
        customer_phone=raw.get("customer_phone", ""),
        address=(
            raw.get("province", ""),
            raw.get("city", ""),
            raw.get("district", ""),
            raw.get("line1", ""),
            raw.get("postal_code", ""),
        ),
        sku=raw["sku"],
        name=raw.get("name") or raw["sku"],
        quantity=quantity,
        unit_price_minor=unit,
        discount_minor=discount,
        currency=currency,
        payment_terms=terms,
        status=status,
    )


def _conflicts(lines: list[ImportLine], line: ImportLine) -> list[RowError]:
    first = lines[0]
    found = [
        RowError(line.row, column, f"differs from row {first.row} of the same order")
        for column in ORDER_COLUMNS
        if getattr(line, column) != getattr(first, column)
    ]
    if any(existing.sku == line.sku for existing in lines):
        found.append(RowError(line.row, "sku", "appears twice in the same order"))
    return found


Sink = Callable[[list[ImportOrder]], Awaitable[int]]
Progress = Callable[[ImportReport], None]


async def import_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    digest: str,
    sink: Sink | None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    now: datetime | None = None,
    max_errors: int = 1000,
) -> ImportReport:
    """Validate every row; hand valid orders to `sink` (None = dry run) `batch_size` at a time.

    `sink` records a batch idempotently and returns how many orders it created. Holds at most one
    order's lines plus one batch, and the set of order references seen (to refuse an order whose
    lines are not adjacent): memory does not grow with the number of lines.
    """
    now = now or datetime.now(UTC)
    report = ImportReport(dry_run=sink is None, max_errors=max_errors)
    seen_refs: set[tuple[str, str]] = set()
    batch: list[ImportOrder] = []
    # The order being read: its (channel, order_ref), first row, valid lines so far.
    cur_open, cur_bad, cur_key, cur_row = False, False, ("", ""), 0
    cur_lines: list[ImportLine] = []

    async def flush() -> None:
        if sink is not None and batch:
            created = await sink(batch)
            report.created += created
            report.existing += len(batch) - created
        batch.clear()
        if progress is not None:
            progress(report)

    async def close_current() -> None:
        if not cur_open:
            return
        report.orders += 1
        if cur_bad or not cur_lines:
            return
        report.valid_orders += 1
        ref = cur_key[1]
        key = f"import:{ref}" if ref else f"import:{digest[:16]}:{cur_row}"
        batch.append(ImportOrder(client_order_id=key, lines=list(cur_lines)))
        if len(batch) >= batch_size:
            await flush()

    def fail(errors: list[RowError]) -> None:
        nonlocal cur_bad
        for error in errors:
            report.add_error(error)
        cur_bad = True

    for number, raw in rows:
        report.rows += 1
        ref = raw.get("order_ref", "")
        key = (raw.get("channel", ""), ref)
        if not (ref and cur_open and cur_key == key):
            await close_current()
            cur_open, cur_bad, cur_key, cur_row = True, False, key, number
            cur_lines = []
            if ref and key in seen_refs:
                report.invalid_rows += 1
                fail([RowError(number, "order_ref", "lines of one order must be adjacent")])
                continue
            if ref:
                seen_refs.add(key)
        parsed = parse_line(number, raw, now)
        problems = parsed if isinstance(parsed, list) else []
        if not problems and cur_lines and isinstance(parsed, ImportLine):
            problems = _conflicts(cur_lines, parsed)
        if problems:
            report.invalid_rows += 1
            fail(problems)
        elif not cur_bad and isinstance(parsed, ImportLine):
            cur_lines.append(parsed)
    await close_current()
    await flush()
    return report
