"""Streaming CSV and XLSX bodies for reports and exports.

CSV is produced row by row as the rows arrive (from a gRPC stream or pages), so a large export
never sits in memory. XLSX is a zip and cannot be streamed while written: openpyxl's write-only
mode spools rows to a temporary file (flat memory), and the finished file is streamed in chunks.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from fastapi.responses import StreamingResponse

__all__ = ["XLSX_MEDIA", "Format", "Row", "csv_chunks", "tabular_response", "xlsx_chunks"]

Format = Literal["csv", "xlsx"]
Row = Sequence[Any]

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_MEDIA}
_CHUNK_ROWS = 500
_READ_BYTES = 1 << 16


def _cell(value: Any) -> Any:
    # Leading =, +, -, @ would make a spreadsheet run the cell as a formula (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


async def csv_chunks(header: Row, rows: AsyncIterator[Row]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    count = 0
    async for row in rows:
        writer.writerow([_cell(v) for v in row])
        count += 1
        if count % _CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def xlsx_chunks(header: Row, rows: AsyncIterator[Row]) -> AsyncIterator[bytes]:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(header))
    async for row in rows:
        sheet.append([_cell(v) for v in row])
    with tempfile.TemporaryFile() as spool:
        await asyncio.to_thread(book.save, spool)
        spool.seek(0)
        while chunk := await asyncio.to_thread(spool.read, _READ_BYTES):
            yield chunk


def tabular_response(
    fmt: Format, name: str, header: Row, rows: AsyncIterator[Row]
) -> StreamingResponse:
    chunks = csv_chunks(header, rows) if fmt == "csv" else xlsx_chunks(header, rows)
    return StreamingResponse(
        chunks,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )
