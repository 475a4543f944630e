"""Streaming readers for order import files: CSV (stdlib) and .xlsx (openpyxl read-only mode).

Neither loads the file: both yield one row at a time, so memory stays flat however long the
file is. Rows are numbered as a spreadsheet shows them (the header is row 1), which is what
error reports refer to.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

__all__ = ["RawRow", "UnsupportedFile", "file_digest", "read_rows"]

RawRow = dict[str, str]


class UnsupportedFile(ValueError):
    """Not a .csv or .xlsx file, or its header is unusable."""


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes, read in chunks: the idempotency namespace of rows without an
    order reference (re-importing the same bytes yields the same keys)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_rows(path: Path) -> Iterator[tuple[int, RawRow]]:
    """(row number, {column: text}) for every non-empty data row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    raise UnsupportedFile(f"{path.name}: only .csv and .xlsx files can be imported")


def _header(cells: list[str]) -> list[str]:
    names = [c.strip().lower() for c in cells]
    if not any(names):
        raise UnsupportedFile("the first row must name the columns")
    return names


def _csv_rows(path: Path) -> Iterator[tuple[int, RawRow]]:
    # utf-8-sig: spreadsheets saving "CSV UTF-8" put a BOM before the first column name.
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = _header(next(reader, []))
        for number, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                yield number, dict(zip(header, (c.strip() for c in cells), strict=False))


def _xlsx_rows(path: Path) -> Iterator[tuple[int, RawRow]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = _header([_text(v) for v in next(rows, ())])
        for number, values in enumerate(rows, start=2):
            cells = [_text(v) for v in values]
            if any(cells):
                yield number, dict(zip(header, cells, strict=False))
    finally:
        workbook.close()


def _text(value: object) -> str:
    """A cell as the text a CSV would hold: dates in ISO 8601, numbers without float noise."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel stores 12.5 as a float; Decimal(str()) keeps what the user typed.
        return format(Decimal(str(value)).normalize(), "f")
    return str(value).strip()
