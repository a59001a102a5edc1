"""The two file writers of the exports, both in constant memory whatever the row count.

CSV: UTF-8 with a BOM (Excel on Chinese Windows then reads it as UTF-8), CRLF line ends, one
line of description first — a single cell beginning with ``#`` that says what the file is,
who exported it, when, with which filter, whether numbers are masked — then the header row,
then the rows. Excel shows the description in A1; a program skips the first line (pandas:
``skiprows=1``). Generated a chunk of rows at a time: nothing is held but the chunk. The row
count is not in the file (it is known only at the end): the audit entry has it.

XLSX: XlsxWriter with ``constant_memory`` (each row goes to the sheet's temporary file once
the next one begins), written to a file the caller then streams. The first sheet, 导出说明,
says who, when, with which filter, the profile, masked or not, the row count; the data sheet
has real number cells for money (format ``0.00``) and counts, real date cells (``yyyy-mm-dd``,
moments ``yyyy-mm-dd hh:mm:ss`` in Beijing time), text for the rest (ID numbers stay text).
A sheet holds at most 1 048 576 rows: beyond that the data go on in a second sheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from server.domain.datasets import Cell, Column, Value

BOM = "\ufeff".encode()
CHUNK_ROWS = 1000
XLSX_MAX_ROWS = 1_048_576
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_chunks(description: str, columns: Sequence[Column],
               rows: Iterable[Sequence[Value]]) -> Iterator[bytes]:
    """The CSV file as chunks of bytes: the BOM, the description line, the header, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f"# {description}"])
    writer.writerow([c.header for c in columns])
    yield BOM + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow([_text(v) for v in row])
        pending += 1
        if pending == CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def _width(column: Column) -> int:
    if column.cell in (Cell.ID_NUMBER, Cell.MOMENT):
        return 20
    if column.cell in (Cell.DATE, Cell.MONEY, Cell.PHONE):
        return 13
    return max(8, min(30, len(column.header) + 4))


def write_xlsx(path: Path, sheet: str, columns: Sequence[Column],
               rows: Iterable[Sequence[Value]], info: Sequence[tuple[str, str]],
               info_after: Iterable[tuple[str, str]] = ()) -> int:
    """Write the workbook to ``path``; the number of data rows. ``info`` goes on the first
    sheet, then the row count and ``info_after`` (asked for once the rows are written)."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False,
                                           "strings_to_urls": False})
    try:
        bold = book.add_format({"bold": True})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        money = book.add_format({"num_format": "0.00"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        about = book.add_worksheet("导出说明")
        sheets = 1
        data = _data_sheet(book, sheet, columns, bold)
        money_columns = frozenset(i for i, c in enumerate(columns) if c.cell is Cell.MONEY)
        count = 0
        line = 1
        write_string, write_number, write_datetime = (data.write_string, data.write_number,
                                                      data.write_datetime)
        for row in rows:
            if line == XLSX_MAX_ROWS:
                sheets += 1
                data = _data_sheet(book, f"{sheet}（{sheets}）", columns, bold)
                write_string, write_number, write_datetime = (
                    data.write_string, data.write_number, data.write_datetime)
                line = 1
            for index, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    write_string(line, index, value)
                elif isinstance(value, Decimal):
                    write_number(line, index, float(value),
                                 money if index in money_columns else None)
                elif isinstance(value, bool):
                    write_string(line, index, "是" if value else "否")
                elif isinstance(value, int):
                    write_number(line, index, value)
                elif isinstance(value, datetime):
                    write_datetime(line, index, value, moment)
                elif isinstance(value, date):
                    write_datetime(line, index, datetime.combine(value, time()), day)
                else:
                    write_string(line, index, str(value))
            line += 1
            count += 1
        about.set_column(0, 0, 22)
        about.set_column(1, 1, 80)
        lines = [*info, ("行数", str(count)), *info_after]
        for number, (name, value) in enumerate(lines):
            about.write_string(number, 0, name, bold)
            about.write_string(number, 1, value, wrap)
    finally:
        book.close()
    return count


def _data_sheet(book, name: str, columns: Sequence[Column], bold):
    data = book.add_worksheet(name[:31])
    for index, column in enumerate(columns):
        data.set_column(index, index, _width(column))
    data.freeze_panes(1, 0)
    for index, column in enumerate(columns):
        data.write_string(0, index, column.header, bold)
    return data
