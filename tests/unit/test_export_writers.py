"""The exports' writers (issue 14): the streamed XLSX read back with openpyxl (types, styles,
escaping, sheets continued past a sheet's rows, a file of no rows), the CSV's BOM and
description line, and the row writer giving the same cells as the plain rule."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from server.domain.datasets import DATASETS, Masking, cells, row_writer
from server.exports import writers, xlsx
from server.exports.xlsx import column_letters, workbook_chunks

HEADERS = ["名称", "金额(元)", "人数", "日期", "时间"]


def _book(rows, **kwargs) -> openpyxl.Workbook:
    data = b"".join(workbook_chunks("农户", HEADERS, [10] * 5, [1], rows,
                                    [("导出人", "测试county")], **kwargs))
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    return openpyxl.load_workbook(io.BytesIO(data))


def test_cells_keep_their_types_and_formats():
    book = _book([["张三 <&> \x01", Decimal("12000.50"), 3, date(2021, 5, 12),
                   datetime(2026, 5, 1, 1, 30, 15)],
                  [None, Decimal("0.00"), None, None, None]])

    assert book.sheetnames == ["导出说明", "农户"]
    sheet = book["农户"]
    assert [c.value for c in sheet[1]] == HEADERS and sheet["A1"].font.b
    name, money, count, day, moment = sheet[2]
    assert name.value == "张三 <&> " and name.data_type == "s"
    assert money.value == 12000.5 and money.number_format == "0.00"
    assert count.value == 3 and count.data_type == "n"
    assert day.is_date and day.value == datetime(2021, 5, 12)
    assert moment.is_date and moment.value == datetime(2026, 5, 1, 1, 30, 15)
    assert [c.value for c in sheet[3]] == [None, 0, None, None, None]
    assert sheet.freeze_panes == "A2"
    info = [[c.value for c in row] for row in book["导出说明"].iter_rows()]
    assert info == [["导出人", "测试county"], ["行数", "2"]]


def test_rows_past_a_sheets_end_go_on_in_the_next_sheet(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # a header and two rows a sheet

    book = _book([[f"第{n}行", None, n, None, None] for n in range(1, 6)])

    assert book.sheetnames == ["导出说明", "农户", "农户（2）", "农户（3）"]
    assert [[c.value for c in row] for row in book["农户（3）"].iter_rows(values_only=False)][1][
        0] == "第5行"
    assert all(book[name]["A1"].value == "名称" for name in book.sheetnames[1:])
    assert book["导出说明"]["B2"].value == "5"


def test_a_file_of_no_rows_has_its_header():
    book = _book([])
    assert [c.value for c in book["农户"][1]] == HEADERS and book["农户"].max_row == 1


def test_column_letters():
    assert [column_letters(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_the_csv_starts_with_a_bom_and_a_description_line():
    columns = DATASETS["evaluations"].columns
    data = b"".join(writers.csv_chunks("数据集：帮扶成效评估", columns,
                                       [[None] * len(columns)] * 2500))
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["# 数据集：帮扶成效评估"]
    assert lines[1] == [c.header for c in columns] and len(lines) == 2 + 2500


@pytest.mark.parametrize("labels", [False, True])
@pytest.mark.parametrize("full", [False, True])
def test_the_row_writer_gives_the_cells_of_the_rule(labels, full):
    columns = DATASETS["households"].columns + DATASETS["members"].columns
    masking = Masking("county", "430421", full)
    row = {"household_id": "h1", "area_code": "430421107003001", "head_name": "张三",
           "head_id_number": "430421198001010011", "a3_monitoring_type": "02",
           "a28_wages": "12000", "a33_net_income": Decimal("15500.00"), "phone": "13812345678",
           "a55_contact_phone": "", "visit_date": date(2021, 5, 12), "a27_risk_types": "01 09",
           "monitored": True, "monitored_since": datetime(2026, 1, 1, 16, 0).astimezone(),
           "survey_number": 2, "a6_sex": "2", "a16_work_months": "3.5",
           "a9_ethnicity": "99", "member_number": 1}
    assert row_writer(columns, labels, masking)(row) == cells(columns, row, labels, masking)
