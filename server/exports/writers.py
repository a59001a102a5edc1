"""The two file writers of the exports, both in constant memory whatever the row count.

CSV: UTF-8 with a BOM (Excel on Chinese Windows then reads it as UTF-8), CRLF line ends, one
line of description first — a single cell beginning with ``#`` that says what the file is,
who exported it, when, with which filter, whether numbers are masked — then the header row,
then the rows. Excel shows the description in A1; a program skips the first line (pandas:
``skiprows=1``). Generated a chunk of rows at a time: nothing is held but the chunk. The row
count is not in the file (it is known only at the end): the audit entry has it.

XLSX (``server.exports.xlsx``): streamed as it is made, no temporary file. The first sheet,
导出说明, says who, when, with which filter, the profile, masked or not, the row count; the data
sheet has real number cells for money (format ``0.00``) and counts, real date cells
(``yyyy-mm-dd``, moments ``yyyy-mm-dd hh:mm:ss`` in Beijing time), text for the rest (ID numbers
stay text). A sheet holds at most 1 048 576 rows: beyond that the data go on in a second sheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from server.domain.datasets import Cell, Column, Value
from server.exports import xlsx

BOM = "\ufeff".encode()
CHUNK_ROWS = 1000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def csv_chunks(description: str, columns: Sequence[Column],
               rows: Iterable[Sequence[Value]]) -> Iterator[bytes]:
    """The CSV file as chunks of bytes: the BOM, the description line, the header, the rows."""
    buffer = io.StringIO()
    iterator = iter(rows)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f"# {description}"])
    writer.writerow([c.header for c in columns])
    yield BOM + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    # None is written empty, a date as 2026-12-05, a moment to the second
    for batch in iter(lambda: list(islice(iterator, CHUNK_ROWS)), []):
        writer.writerows(batch)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


def _width(column: Column) -> int:
    if column.cell in (Cell.ID_NUMBER, Cell.MOMENT):
        return 20
    if column.cell in (Cell.DATE, Cell.MONEY, Cell.PHONE):
        return 13
    return max(8, min(30, len(column.header) + 4))


def xlsx_chunks(sheet: str, columns: Sequence[Column], rows: Iterable[Sequence[Value]],
                info: Sequence[tuple[str, str]]) -> Iterator[bytes]:
    """The XLSX file as chunks of bytes (``server.exports.xlsx``): the 导出说明 sheet with
    ``info`` and the row count, the data sheet with its typed cells."""
    return xlsx.workbook_chunks(
        sheet, [c.header for c in columns], [_width(c) for c in columns],
        [i for i, c in enumerate(columns) if c.cell is Cell.MONEY], rows, info)
