"""Department warning lists over real HTTP (issue 6: 部门筛查、集中交办、入户核查、结果反馈).

A county user uploads a CSV/XLSX list; rows are matched to people by ID number; matched rows
are tasks of the household's village, shown on the helper's phone list; the rest is reported
back; village/township users feed back the result of each check (SPEC §6 dynamic management).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select, update

from server.accounts.models import User
from server.areas.models import Area
from server.audit.models import AuditEntry
from server.domain.idnumber import mask
from server.domain.roles import Role
from server.domain.warnings import TEXT_MAX
from server.screening.models import WarningList, WarningRow
from server.screening.services import MAX_LIST_BYTES, MAX_ROWS
from sync.attachments import ENTITY_PROPERTIES
from tests.support.collect import (
    HTTP_TIMEOUT,
    CollectClient,
    form_instance,
    parse_form_list,
    parse_manifest,
)
from tests.support.engine import Job, fill
from tests.support.households import (
    CHILD,
    HEAD,
    SPOUSE,
    SURVEY_FIELDS,
    address,
    id_number,
)
from tests.support.seed import PASSWORD, PASSWORD_HASH, TOWNSHIP, VILLAGE

STRANGER = id_number("430421", "19900909", 91)  # valid, but in nobody's household
BAD_CHECKSUM = SPOUSE["a7_id_number"][:17] + ("0" if SPOUSE["a7_id_number"][17] != "0" else "1")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def api(live_server: str, username: str) -> requests.Session:
    session = requests.Session()
    session.auth = (username, PASSWORD)
    session.base = f"{live_server}/api/v1"  # type: ignore[attr-defined]
    return session


def csv_list(*rows: tuple[str, str, str, str]) -> bytes:
    return "\n".join(["部门,身份证号码,原因,日期", *(",".join(r) for r in rows)]).encode()


def xlsx(*rows: list) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(session: requests.Session, filename: str, content: bytes) -> requests.Response:
    return session.post(f"{session.base}/warning-lists",
                        files={"file": (filename, content, "application/octet-stream")},
                        timeout=HTTP_TIMEOUT)  # the 20 000-row list, on a busy machine


def lists_stored(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(WarningList))


def audit(db, action: str) -> list[dict]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry.details).where(AuditEntry.action == action)))


def add_user(db, username: str, role: Role, area: str) -> None:
    db.add(User(username=username, full_name=f"测试{username}", role=role, area_code=area,
                password_hash=PASSWORD_HASH))
    db.commit()


def households_csv(client: CollectClient) -> list[dict[str, str]]:
    form = next(f for f in parse_form_list(client.form_list()) if f["formID"] == "measures")
    files = parse_manifest(client.get(form["manifestUrl"]))
    url = next(f["downloadUrl"] for f in files if f["filename"] == "households.csv")
    text = client.get(url).content.decode("utf-8")
    assert text.splitlines()[0] == ",".join(["name", "label", "__version", *ENTITY_PROPERTIES,
                                             "warning_task"])
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def household(live_server, seeded) -> str:
    """A household (张三, 李四, 张小) in 洪罗庙社区, taken in through the phone's path."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    xml = form_instance("household", seeded.form_versions["household"],
                        {**SURVEY_FIELDS, **address(VILLAGE), "phone": "13812345678"},
                        [HEAD, SPOUSE, CHILD])
    assert client.submit(xml).status_code == 201
    county = api(live_server, "county")
    [row] = county.get(f"{county.base}/households", timeout=10).json()
    return row["id"]


@pytest.fixture
def imported(live_server, household) -> dict:
    """The county's list: a match (the spouse), a stranger, a wrong ID and a wrong date."""
    county = api(live_server, "county")
    response = upload(county, "医保预警.csv", csv_list(
        ("县医保局", SPOUSE["a7_id_number"], "住院自付超过2万元", "2021-07-01"),
        ("县民政局", STRANGER, "申请临时救助", "2021-07-02"),
        ("县残联", BAD_CHECKSUM, "新办残疾证", ""),
        ("县人社局", HEAD["a7_id_number"], "失业", "2021-13-01"),
    ))
    assert response.status_code == 201, response.text
    return response.json()


def only_task(session: requests.Session) -> dict:
    [task] = session.get(f"{session.base}/warning-tasks", timeout=10).json()
    return task


# --- import and report -----------------------------------------------------------------------


def test_the_upload_answers_with_the_import_report(imported, db):
    """Issue 6: matches become tasks; rows matching nobody and invalid rows are reported back
    with their row number and why."""
    assert (imported["matched"], imported["unmatched"], imported["invalid"]) == (1, 1, 2)
    assert imported["list"]["filename"] == "医保预警.csv"
    assert imported["list"]["open_tasks"] == 1 and imported["list"]["total"] == 4
    [unmatched] = imported["unmatched_rows"]
    assert (unmatched["row_number"], unmatched["id_number"]) == (3, STRANGER)
    assert unmatched["reason"] == "申请临时救助"
    assert unmatched["problem_code"] == "WARNING_ROW_UNMATCHED" and unmatched["problem"]
    checksum, bad_date = imported["invalid_rows"]
    assert (checksum["row_number"], checksum["problem_code"]) == (4, "ID_CHECKSUM")
    assert (bad_date["row_number"], bad_date["problem_code"]) == (5, "WARNING_ROW_DATE_INVALID")
    [entry] = audit(db, "warnings.imported")
    assert (entry["matched"], entry["unmatched"], entry["invalid"]) == (1, 1, 2)


def test_an_xlsx_list_with_a_title_row_and_date_cells_is_read(live_server, household):
    """Choice: a title row above the header is allowed; row numbers are the sheet's."""
    content = xlsx(["2021年7月 县应急局因灾预警名单"], [],
                   ["原因", "公民身份号码", "部门", "日期"],
                   ["因灾房屋受损", HEAD["a7_id_number"], "县应急局", datetime(2021, 7, 3)],
                   ["因灾房屋受损", STRANGER, "县应急局", "2021年7月4日"])

    report = upload(api(live_server, "county"), "灾情.xlsx", content).json()

    assert (report["matched"], report["unmatched"], report["invalid"]) == (1, 1, 0)
    assert report["unmatched_rows"][0]["row_number"] == 5
    task = only_task(api(live_server, "county"))
    assert (task["reported_on"], task["row_number"], task["person_name"]) == \
        ("2021-07-03", 4, "张三")


@pytest.mark.parametrize("username", ["helper", "village", "township"])
def test_only_county_users_upload_lists(live_server, seeded, db, username):
    """SPEC §1: county staff import department warning lists."""
    response = upload(api(live_server, username), "x.csv", csv_list(("县局", STRANGER, "x", "")))

    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN_ROLE"
    assert lists_stored(db) == 0


def test_an_upload_needs_a_file(live_server, seeded):
    county = api(live_server, "county")

    response = county.post(f"{county.base}/warning-lists", data={"file": "not a file"},
                           timeout=10)

    assert response.status_code == 422


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def _with_part(workbook: bytes, name: str, data: bytes) -> bytes:
    """The workbook with one of its parts replaced."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    return _zip({**parts, name: data})


GOOD_XLSX = xlsx(["部门", "身份证号码", "原因", "日期"], ["县医保局", STRANGER, "住院", None])
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;")
                                                   * 10) for n in range(1, 10))
          + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
          b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
          b"</sheetData></worksheet>")
FAR_ROW = (b'<?xml version="1.0"?><worksheet '
           b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe9\x83\xa8\xe9\x97\xa8</t></is></c></row>'
           b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData></worksheet>')

BAD_FILES = {  # case: (file name, content, the reason's code)
    "pdf": ("名单.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "LIST_FILE_TYPE"),
    "legacy xls": ("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500,
                   "LIST_LEGACY_EXCEL"),
    "no extension": ("名单", csv_list(("县局", STRANGER, "x", "")), "LIST_FILE_TYPE"),
    "xlsx not a zip": ("名单.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 encrypted",
                       "LIST_XLSX_NOT_ZIP"),
    "xlsx a truncated zip": ("名单.xlsx", GOOD_XLSX[:len(GOOD_XLSX) // 2], "LIST_XLSX_CORRUPT"),
    "xlsx a zip without a workbook": ("名单.xlsx", _zip({"word/document.xml": b"<w/>"}),
                                      "LIST_XLSX_INVALID"),
    "xlsx zip bomb": ("名单.xlsx", _with_part(GOOD_XLSX, "xl/sharedStrings.xml",
                                             b"<" + b"a" * (60 * 1024 * 1024)),
                      "LIST_XLSX_TOO_LARGE"),
    "xlsx entity expansion": ("名单.xlsx", _with_part(GOOD_XLSX, "xl/worksheets/sheet1.xml",
                                                      LAUGHS), "LIST_XLSX_FORBIDDEN_XML"),
    "xlsx a million blank rows": ("名单.xlsx", _with_part(GOOD_XLSX, "xl/worksheets/sheet1.xml",
                                                          FAR_ROW), "LIST_TOO_MANY_LINES"),
    "csv that is a zip": ("名单.csv", GOOD_XLSX, "LIST_CSV_IS_ZIP"),
    "csv with NUL bytes": ("名单.csv", "部门,身份证号码,原因,日期\n".encode("utf-16"),
                           "LIST_CSV_NUL"),
    "csv with a huge field": ("名单.csv", b'\xe9\x83\xa8,"' + b"x" * 300_000 + b'"\n',
                              "LIST_CSV_MALFORMED"),
    "csv without the columns": ("名单.csv", b"name,id\nx,y\n", "LIST_HEADER_MISSING"),
    "empty csv": ("名单.csv", b"", "LIST_EMPTY"),
    "csv over the row limit": ("名单.csv", csv_list(*[("县局", STRANGER, "x", "")]
                                                     * (MAX_ROWS + 1)), "LIST_TOO_MANY_ROWS"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_or_hostile_file_is_a_400_with_a_chinese_message(live_server, seeded, db, case):
    """Issue 6: neither CSV nor XLSX, a broken or hostile XLSX: 4xx that says why, never 5xx."""
    filename, content, reason = BAD_FILES[case]

    response = upload(api(live_server, "county"), filename, content)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "WARNING_LIST_UNREADABLE"
    assert CHINESE.search(body["message"]) and body["details"]["reason"] == reason
    assert lists_stored(db) == 0


def test_a_file_over_the_size_limit_is_a_413(live_server, seeded, db):
    big = csv_list(("县局", STRANGER, "x" * (MAX_LIST_BYTES + 1), ""))

    response = upload(api(live_server, "county"), "大.csv", big)

    assert response.status_code == 413
    assert response.json()["code"] == "WARNING_LIST_TOO_LARGE"
    assert lists_stored(db) == 0


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(["a.csv", "a.xlsx", "a.CSV", "名单.XLSX", "a.txt"]),
       content=st.one_of(
           st.binary(max_size=3000),
           st.text(max_size=300).map(lambda t: ("部门,身份证号码,原因,日期\n" + t).encode()),
           st.tuples(st.integers(0, len(GOOD_XLSX) - 1), st.binary(min_size=1, max_size=64))
           .map(lambda c: GOOD_XLSX[:c[0]] + c[1] + GOOD_XLSX[c[0] + len(c[1]):])))
def test_any_file_gets_a_report_or_a_4xx(live_server, seeded, name, content):
    """Hostile or broken content is refused with the catalogue's 400, never a 5xx."""
    response = upload(api(live_server, "county"), name, content)

    assert response.status_code in (201, 400), response.text
    if response.status_code == 400:
        assert response.json()["code"] == "WARNING_LIST_UNREADABLE"


# --- lists, rows and the original file -------------------------------------------------------


def test_lists_are_the_countys(live_server, imported):
    """Area scope: a list belongs to the county that uploaded it."""
    list_id = imported["list"]["id"]
    county, village = api(live_server, "county"), api(live_server, "village")

    listed = county.get(f"{county.base}/warning-lists", timeout=10)
    unmatched = county.get(f"{county.base}/warning-lists/{list_id}",
                           params={"status": "unmatched"}, timeout=10).json()

    assert [item["id"] for item in listed.json()] == [list_id]
    assert listed.json()[0]["matched"] == 1 and "X-Pagination" in listed.headers
    assert [(r["row_number"], r["id_number"]) for r in unmatched["rows"]] == [(3, STRANGER)]
    assert unmatched["invalid"] == 2
    assert village.get(f"{village.base}/warning-lists", timeout=10).json() == []
    assert village.get(f"{village.base}/warning-lists/{list_id}", timeout=10).status_code == 404
    assert village.get(f"{village.base}/warning-lists/{list_id}/file",
                       timeout=10).status_code == 404


def test_the_original_file_is_downloaded_as_received_and_logged(live_server, imported, db):
    county = api(live_server, "county")

    response = county.get(f"{county.base}/warning-lists/{imported['list']['id']}/file",
                          timeout=10)

    assert response.status_code == 200
    assert response.content.startswith("部门,身份证号码".encode())
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    assert len(audit(db, "warnings.downloaded")) == 1


def test_the_original_file_is_served_in_its_own_charset(live_server, household):
    """SPEC §6 (department lists, issue 11): a GBK list (Excel's "CSV (逗号分隔)" on Chinese
    Windows) is served as received with one ``charset=gbk``; a UTF-8 list as utf-8."""
    county = api(live_server, "county")
    gbk = f"部门,身份证号码,原因,日期\n县民政局,{HEAD['a7_id_number']},临时救助,2021/7/1\n"
    served = {}
    for name, content in (("民政.csv", gbk.encode("gbk")),
                          ("医保.csv", csv_list(("县医保局", STRANGER, "住院", "")))):
        list_id = upload(county, name, content).json()["list"]["id"]
        response = county.get(f"{county.base}/warning-lists/{list_id}/file", timeout=10)
        assert response.content == content
        served[name] = response.headers["Content-Type"]

    assert served == {"民政.csv": "text/csv; charset=gbk", "医保.csv": "text/csv; charset=utf-8"}


def test_excel_dates_are_read_and_keep_the_warning(live_server, household):
    """SPEC §6 (部门筛查预警; the date is optional): an Excel serial day number, Excel's CSV
    date-time and an XLSX date or number cell are dates, not invalid rows."""
    county = api(live_server, "county")
    csv_report = upload(county, "日期.csv", csv_list(
        ("县医保局", SPOUSE["a7_id_number"], "住院自付", "46329"),
        ("县民政局", HEAD["a7_id_number"], "临时救助", "2026/11/3 0:00"),
        ("县人社局", HEAD["a7_id_number"], "失业", "2026-11-03 08:30:00"),
    )).json()
    xlsx_report = upload(county, "日期.xlsx", xlsx(
        ["部门", "身份证号码", "原因", "日期"],
        ["县应急局", HEAD["a7_id_number"], "因灾房屋受损", datetime(2026, 11, 3, 0, 0)],
        ["县残联", HEAD["a7_id_number"], "新办残疾证", 46329],
        ["县教育局", CHILD["a7_id_number"], "辍学风险", 46329.0],
    )).json()

    assert (csv_report["matched"], csv_report["invalid"]) == (3, 0), csv_report
    assert (xlsx_report["matched"], xlsx_report["invalid"]) == (3, 0), xlsx_report
    tasks = county.get(f"{county.base}/warning-tasks", timeout=10).json()
    assert [t["reported_on"] for t in tasks] == ["2026-11-03"] * 6


# --- tasks and results -----------------------------------------------------------------------


def test_tasks_are_the_household_areas_and_masked_below_the_county(live_server, imported):
    """Issue 6: the matched row is a task of the household's village; IDs masked but for
    county/admin."""
    village_task = only_task(api(live_server, "village"))
    township_task = only_task(api(live_server, "township"))
    county_task = only_task(api(live_server, "county"))
    other = api(live_server, "helper_other")

    assert village_task["id_number"] == mask(SPOUSE["a7_id_number"])
    assert township_task["id_number"] == mask(SPOUSE["a7_id_number"])
    assert county_task["id_number"] == SPOUSE["a7_id_number"]
    assert village_task["person_name"] == "李四" and village_task["open"] is True
    assert (village_task["department"], village_task["reason"]) == ("县医保局", "住院自付超过2万元")
    assert other.get(f"{other.base}/warning-tasks", timeout=10).json() == []


def test_the_village_feeds_back_the_result_once(live_server, imported, db):
    """Issue 6 (结果反馈): the result of each check is recorded, audited, and closes the task."""
    village = api(live_server, "village")
    task = only_task(village)
    url = f"{village.base}/warning-tasks/{task['id']}/result"

    done = village.post(url, json={"outcome": "01", "result": "已入户核查：已报销，无风险"},
                        timeout=10)
    again = village.post(url, json={"outcome": "03", "result": "重复"}, timeout=10)

    assert done.status_code == 200, done.text
    assert (done.json()["open"], done.json()["outcome"]) == (False, "01")
    assert done.json()["outcome_label"] == "已核查，无返贫致贫风险"
    assert done.json()["id_number"] == mask(SPOUSE["a7_id_number"])
    assert again.status_code == 409 and again.json()["code"] == "WARNING_ALREADY_CHECKED"
    closed = village.get(f"{village.base}/warning-tasks", params={"open": "false"}, timeout=10)
    assert [t["id"] for t in closed.json()] == [task["id"]]
    assert village.get(f"{village.base}/warning-tasks", params={"open": "true"},
                       timeout=10).json() == []
    [entry] = audit(db, "warnings.checked")
    assert entry["outcome"] == "01" and entry["result"].startswith("已入户核查")


@pytest.mark.parametrize("username,status,code", [
    ("helper", 403, "FORBIDDEN_ROLE"),
    ("county", 403, "FORBIDDEN_ROLE"),
    ("other_village", 404, "NOT_FOUND"),
])
def test_only_the_households_village_or_township_records_a_result(
        live_server, imported, db, username, status, code):
    other_village = db.scalar(select(Area.code).where(Area.parent_code == TOWNSHIP,
                                                      Area.code != VILLAGE))
    add_user(db, "other_village", Role.VILLAGE, other_village)
    task = only_task(api(live_server, "county"))
    session = api(live_server, username)

    response = session.post(f"{session.base}/warning-tasks/{task['id']}/result",
                            json={"outcome": "01", "result": "无风险"}, timeout=10)

    assert response.status_code == status and response.json()["code"] == code
    assert only_task(api(live_server, "county"))["open"] is True


@pytest.mark.parametrize("body,status", [
    ({"result": "无风险"}, 422),
    ({"outcome": "09", "result": "无风险"}, 422),
    ({"outcome": "03", "result": ""}, 422),
    ({"outcome": "03", "result": "  \t "}, 400),
])
def test_a_result_needs_a_known_outcome_and_a_text(live_server, imported, body, status):
    """Outcome 03 无法核实 must say why (the result text)."""
    township = api(live_server, "township")
    task = only_task(township)

    response = township.post(f"{township.base}/warning-tasks/{task['id']}/result", json=body,
                             timeout=10)

    assert response.status_code == status
    if status == 400:
        assert response.json()["code"] == "WARNING_RESULT_REQUIRED"


def test_outcome_02_opens_an_identification_case_from_the_department_warning(
        live_server, imported, household, db):
    """SPEC §6: a department warning can start the identification procedure (case_origin 03);
    a second warning on the same household joins the case already open."""
    county, township = api(live_server, "county"), api(live_server, "township")
    upload(county, "人社.csv", csv_list(("县人社局", HEAD["a7_id_number"], "失业", "2021-08-01")))
    first, second = township.get(f"{township.base}/warning-tasks", timeout=10).json()

    opened = township.post(f"{township.base}/warning-tasks/{first['id']}/result",
                           json={"outcome": "02", "result": "住院自付3万元，人均收入低于监测线"},
                           timeout=10).json()
    joined = township.post(f"{township.base}/warning-tasks/{second['id']}/result",
                           json={"outcome": "02", "result": "失业，收入骤减"}, timeout=10).json()

    case = township.get(f"{township.base}/cases/{opened['case_id']}", timeout=10).json()
    assert (case["procedure"], case["origin"], case["household_id"]) == \
        ("identification", "03", household)
    assert case["step"] == "application" and case["status"] == "open"
    assert joined["case_id"] == opened["case_id"]
    assert [e["case_id"] for e in audit(db, "warnings.checked")] == [opened["case_id"]] * 2


def test_outcome_03_records_why_the_check_failed(live_server, imported):
    village = api(live_server, "village")
    task = only_task(village)

    response = village.post(f"{village.base}/warning-tasks/{task['id']}/result",
                            json={"outcome": "03", "result": "本人长期在外务工，联系不上"},
                            timeout=10)

    assert response.json()["outcome_label"] == "无法核实"
    assert response.json()["check_result"] == "本人长期在外务工，联系不上"
    assert response.json()["case_id"] is None


# --- one task per household, department and reason (issue 11) -------------------------------


def test_a_list_uploaded_again_opens_no_second_task(live_server, imported):
    """SPEC §6 (部门筛查、集中交办): one open task per household, department and reason; the
    same list again joins the open task, counted on it."""
    county = api(live_server, "county")
    again = upload(county, "医保预警.csv", csv_list(
        ("县医保局", SPOUSE["a7_id_number"], "住院自付超过2万元", "2021-07-01"))).json()

    [task] = county.get(f"{county.base}/warning-tasks", timeout=10).json()
    assert (again["matched"], again["joined"], again["already_checked"]) == (0, 1, 0)
    assert again["list"]["joined"] == 1 and again["list"]["open_tasks"] == 0
    assert task["id"] == only_task(api(live_server, "village"))["id"]
    assert task["joined_rows"] == 1
    [joined] = county.get(f"{county.base}/warning-lists/{again['list']['id']}",
                          params={"status": "joined"}, timeout=10).json()["rows"]
    assert joined["task_id"] == task["id"] and joined["open"] is False


def test_twenty_thousand_rows_naming_one_person_are_one_task(live_server, seeded, household):
    """SPEC §6: a list of the maximum size naming one ID is one task with its repeats
    counted, and the helper's phone list stays small."""
    county = api(live_server, "county")
    helper = CollectClient(live_server, seeded.tokens["helper"])

    report = upload(county, "重复.csv", csv_list(
        *[("县医保局", SPOUSE["a7_id_number"], "住院自付超过2万元", "2021-07-01")] * MAX_ROWS))

    assert report.status_code == 201, report.text
    body = report.json()
    assert (body["matched"], body["joined"]) == (1, MAX_ROWS - 1)
    [task] = county.get(f"{county.base}/warning-tasks", timeout=30).json()
    assert task["joined_rows"] == MAX_ROWS - 1
    [row] = households_csv(helper)
    assert row["warning_task"] == "县医保局（2021-07-01）：住院自付超过2万元"


def test_the_phone_text_of_many_tasks_is_bounded(live_server, seeded, household):
    """SPEC §6 (tasks handed to the village, shown on the helper's phone): many different
    warnings of one household are many tasks, but the phone's text names a few and counts
    the rest."""
    county = api(live_server, "county")
    rows = [("县医保局", SPOUSE["a7_id_number"], f"住院{n}次，" + "自付费用很高" * 150,
             "2021-07-01") for n in range(60)]

    report = upload(county, "多条.csv", csv_list(*rows)).json()

    assert report["matched"] == 60
    [row] = households_csv(CollectClient(live_server, seeded.tokens["helper"]))
    assert row["label"].startswith("【待核查】")
    assert len(row["warning_task"]) <= TEXT_MAX and row["warning_task"].endswith("等共60项")


def test_a_checked_warning_is_not_handed_out_again_but_a_later_one_is(live_server, imported,
                                                                        db):
    """SPEC §6 (入户核查、结果反馈): after the check, the same warning again (dated on or before
    the check day, or undated) is reported as already checked with the task that was; a
    warning dated after the check (a new list from a later date) opens a new check."""
    county, village = api(live_server, "county"), api(live_server, "village")
    task = only_task(village)
    village.post(f"{village.base}/warning-tasks/{task['id']}/result",
                 json={"outcome": "01", "result": "已报销，无风险"}, timeout=10).raise_for_status()
    db.commit()
    db.execute(update(WarningRow).where(WarningRow.id == task["id"]).values(
        checked_at=datetime(2021, 7, 10, 2, 0, tzinfo=UTC)))  # 10:00 in Beijing
    db.commit()
    row = ("县医保局", SPOUSE["a7_id_number"], "住院自付超过2万元")

    same = upload(county, "医保预警.csv", csv_list(
        (*row, "2021-07-01"), (*row, ""), (*row, "2021-07-10"))).json()
    later = upload(county, "医保预警-8月.csv", csv_list((*row, "2021-08-01"))).json()

    assert (same["matched"], same["already_checked"]) == (0, 3)
    assert [(r["row_number"], r["task_id"]) for r in same["already_checked_rows"]] == \
        [(2, task["id"]), (3, task["id"]), (4, task["id"])]
    assert {r["problem_code"] for r in same["already_checked_rows"]} == {
        "WARNING_ROW_ALREADY_CHECKED"}
    assert (later["matched"], later["already_checked"]) == (1, 0)
    [new_task] = village.get(f"{village.base}/warning-tasks", params={"open": "true"},
                             timeout=10).json()
    assert new_task["id"] != task["id"] and new_task["reported_on"] == "2021-08-01"


# --- the helper's phone list -----------------------------------------------------------------


def test_an_open_task_marks_the_household_on_the_helpers_phone_list(live_server, seeded,
                                                                    household):
    """Issue 6: tasks appear on the helper's phone list: label 【待核查】 and the task, with a
    higher __version each time (Collect only takes a server entity of a higher version)."""
    helper = CollectClient(live_server, seeded.tokens["helper"])
    [before] = households_csv(helper)
    county, village = api(live_server, "county"), api(live_server, "village")
    upload(county, "医保.csv", csv_list(("县医保局", SPOUSE["a7_id_number"], "住院自付超过2万元",
                                         "2021-07-01")))

    [marked] = households_csv(helper)
    village.post(f"{village.base}/warning-tasks/{only_task(village)['id']}/result",
                 json={"outcome": "01", "result": "无风险"}, timeout=10)
    [after] = households_csv(helper)

    assert before["label"] == "张三 洪罗庙社区第一村民小组" and before["warning_task"] == ""
    assert marked["label"] == "【待核查】张三 洪罗庙社区第一村民小组"
    assert marked["warning_task"] == "县医保局（2021-07-01）：住院自付超过2万元"
    assert after["label"] == before["label"] and after["warning_task"] == ""
    assert [int(r["__version"]) for r in (before, marked, after)] == [1, 2, 3]
    assert {k: v for k, v in marked.items() if k not in ("label", "__version", "warning_task")} \
        == {k: v for k, v in before.items() if k not in ("label", "__version", "warning_task")}
    other = CollectClient(live_server, seeded.tokens["helper_other"])
    assert households_csv(other) == []


def test_the_marked_list_loads_in_the_odk_engine_and_the_picker_shows_the_task(
        live_server, seeded, household):
    """The served entity list stays valid for ODK: the measures form, with the server's own
    attachments, offers the household under its marked label in the Web Forms engine."""
    upload(api(live_server, "county"), "医保.csv",
           csv_list(("县医保局", SPOUSE["a7_id_number"], "住院", "2021-07-01")))
    client = CollectClient(live_server, seeded.tokens["helper"])
    form = next(f for f in parse_form_list(client.form_list()) if f["formID"] == "measures")
    attachments = {entry["filename"]: client.get(entry["downloadUrl"]).content
                   for entry in parse_manifest(client.get(form["manifestUrl"]))}

    outcome = fill(Job("pick", client.get(form["downloadUrl"]).content, attachments,
                       [("/data/household", household)]))

    assert outcome.exit_code == 0, outcome.report.get("answer_errors")
    options = outcome.node("/data/household")["options"]
    assert options == [{"value": household, "label": "【待核查】张三 洪罗庙社区第一村民小组"}]
    assert outcome.value("/data/hh_head_name") == "张三"
