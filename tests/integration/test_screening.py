"""Department warning lists (部门筛查预警, issue 6): import, match by ID, tasks, feedback."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from media.memory import MemoryMediaStore
from server.audit.models import AuditEntry
from server.errors import AppError
from server.screening.models import WarningRow
from server.screening.queries import tasks_query
from server.screening.services import import_warning_list, record_check
from tests.integration.conftest import user
from tests.integration.test_registry import TODAY, submit
from tests.support.households import CHILD, HEAD, SPOUSE, id_number
from tests.support.seed import VILLAGE

STRANGER = id_number("430421", "19900909", 91)


def open_tasks(session, area_code: str):
    """The unchecked home-check tasks inside ``area_code``, by the read service the REST API
    and the console list them with (seen by the county)."""
    county = user(session, "county")
    return [row for row, _ in session.execute(
        tasks_query(county, {"open": True, "area_code": area_code}))]


def csv_list(*rows: tuple[str, str, str, str]) -> bytes:
    lines = ["部门,身份证号码,原因,日期", *(",".join(row) for row in rows)]
    return ("\ufeff" + "\n".join(lines)).encode()


def test_rows_are_matched_to_households_and_become_village_tasks(session, helper, seeded):
    """Issue 6: rows matched by ID become tasks; rows that match nobody are reported back."""
    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD])
    county = user(session, "county")
    content = csv_list(("县医保局", SPOUSE["a7_id_number"], "住院自付超过2万元", "2021-07-01"),
                       ("县民政局", STRANGER, "申请临时救助", "2021-07-02"),
                       ("县残联", SPOUSE["a7_id_number"][:17] + "0", "新办残疾证", ""))

    report = import_warning_list(session, MemoryMediaStore(), county, "医保预警.csv", content,
                                 TODAY)
    session.commit()

    assert (report.matched, report.unmatched) == (1, [3])
    assert report.invalid[4].code == "ID_CHECKSUM"
    [task] = open_tasks(session, VILLAGE)
    assert task.household_id == survey.household_id and task.department == "县医保局"
    assert open_tasks(session, "430421201") == []
    assert session.scalar(select(AuditEntry.details).where(
        AuditEntry.action == "warnings.imported"))["matched"] == 1


def test_a_check_result_is_fed_back_and_closes_the_task(session, helper, seeded):
    submit(session, helper, seeded, [HEAD, SPOUSE])
    county, village = user(session, "county"), user(session, "village")
    import_warning_list(session, MemoryMediaStore(), county, "list.csv",
                        csv_list(("县人社局", HEAD["a7_id_number"], "失业", "2021-08-01")), TODAY)
    [task] = open_tasks(session, VILLAGE)

    with pytest.raises(AppError):
        record_check(session, task.id, user(session, "helper_other"), "已核实", "01")
    record_check(session, task.id, village, "入户核实：已再就业，暂不纳入监测", "01")
    session.commit()

    assert open_tasks(session, VILLAGE) == []
    assert task.check_result.startswith("入户核实") and task.outcome == "01"
    with pytest.raises(AppError) as again:
        record_check(session, task.id, village, "再次反馈", "03")
    assert again.value.code == "WARNING_ALREADY_CHECKED"


def test_an_xlsx_list_is_read_by_its_chinese_headers(session, helper, seeded):
    submit(session, helper, seeded, [HEAD])
    workbook = Workbook()
    workbook.active.append(["原因", "身份证号码", "部门", "日期"])
    workbook.active.append(["因灾房屋受损", HEAD["a7_id_number"], "县应急局", None])
    out = BytesIO()
    workbook.save(out)

    report = import_warning_list(session, MemoryMediaStore(), user(session, "county"),
                                 "灾情.xlsx", out.getvalue(), TODAY)

    assert report.matched == 1


@pytest.mark.rolled_back
@pytest.mark.parametrize("content,reason", [
    (b"name,id\nx,y\n", "LIST_HEADER_MISSING"),
    (b"\xff\xfe\x00\x00\x80", "LIST_CSV_NUL"),
    ("部门,身份证号码,原因\n".encode(), "LIST_HEADER_MISSING"),
])
def test_a_malformed_list_is_refused_with_what_is_wrong(session, seeded, content, reason):
    with pytest.raises(AppError) as error:
        import_warning_list(session, MemoryMediaStore(), user(session, "county"), "x.csv",
                            content, TODAY)

    assert error.value.code == "WARNING_LIST_UNREADABLE"
    assert error.value.params["reason"].code == reason


def test_a_gbk_list_as_excel_saves_it_in_chinese_windows_is_read(session, helper, seeded):
    """Choice: a CSV that is not UTF-8 is read as GB18030 (Excel's "CSV (逗号分隔)")."""
    submit(session, helper, seeded, [HEAD])
    content = f"部门,身份证号码,原因,日期\n县民政局,{HEAD['a7_id_number']},临时救助,2021/7/1\n"

    report = import_warning_list(session, MemoryMediaStore(), user(session, "county"),
                                 "民政.csv", content.encode("gbk"), TODAY)

    assert (report.matched, report.invalid) == (1, {})
    [task] = open_tasks(session, VILLAGE)
    assert (task.department, task.reported_on.isoformat()) == ("县民政局", "2021-07-01")


@pytest.mark.rolled_back
def test_only_county_staff_upload_lists(session, helper, seeded):
    with pytest.raises(AppError) as error:
        import_warning_list(session, MemoryMediaStore(), helper, "x.csv", csv_list(), TODAY)

    assert error.value.code == "FORBIDDEN_ROLE"


def test_the_database_holds_one_open_task_per_household_department_and_reason(
        session, helper, seeded):
    """SPEC §6 / DESIGN (the database guards what must never break): a second open task with
    the same household, department and reason is refused by the unique index; once the first
    is checked, a new one may open."""
    submit(session, helper, seeded, [HEAD, SPOUSE])
    county, village = user(session, "county"), user(session, "village")
    report = import_warning_list(session, MemoryMediaStore(), county, "list.csv", csv_list(
        ("县人社局", HEAD["a7_id_number"], "失业", "2021-08-01"),
        ("县人社局", SPOUSE["a7_id_number"], "失业", "2021-08-02")), TODAY)
    session.commit()
    [task] = open_tasks(session, VILLAGE)
    assert (report.matched, report.joined) == (1, 1)

    def duplicate() -> WarningRow:
        return WarningRow(list_id=task.list_id, row_number=99, department="县人社局",
                          id_number=task.id_number, reason="失业", status="matched",
                          household_id=task.household_id, area_code=task.area_code,
                          task_key=task.task_key)

    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(duplicate())
    record_check(session, task.id, village, "已再就业", "01")
    session.add(duplicate())
    session.commit()
    assert len(open_tasks(session, VILLAGE)) == 1
