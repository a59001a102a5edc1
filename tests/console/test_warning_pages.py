"""部门预警 (issue 13, page 9): the county uploads a department's list and reads its import
report; the household's village feeds back the home check. The import and check rules are
tested in tests/integration/test_screening.py and tests/api/test_warning_lists.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.console import follow, log_in
from tests.support.households import HEAD, SPOUSE, id_number
from tests.support.rest import post_household

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("console_warnings_browser")]

UNKNOWN = id_number("430421", "19660606", 55)  # valid, and nobody in the registry
MISTYPED = HEAD["a7_id_number"][:17] + ("0" if HEAD["a7_id_number"][17] != "0" else "1")


def _list(*rows: tuple[str, str, str]) -> bytes:
    return ("部门,身份证号码,原因,日期\n" + "".join(
        f"{department},{number},{reason},2026-11-03\n" for department, number, reason in rows)
    ).encode("utf-8")


LIST = _list(("县医疗保障局", HEAD["a7_id_number"], "住院自付费用超过2万元"),
             ("县医疗保障局", SPOUSE["a7_id_number"], "住院自付费用超过2万元"),
             ("县民政局", UNKNOWN, "申请临时救助"),
             ("县残联", MISTYPED, "新办残疾证"))


def test_a_county_user_uploads_a_warning_list_and_reads_its_import_report(page, live_server,
                                                                         seeded):
    """Issue 13: the upload answers with the import report — a task for the household (the
    spouse's row counted on it), the unmatched and the invalid rows with why — and the list
    is then listed with its counts."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    log_in(page, live_server, "county")
    follow(page, page.get_by_role("navigation", name="主导航").get_by_role("link", name="部门预警"))

    page.get_by_label("名单文件").set_input_files(files=[{
        "name": "医保民政预警名单.csv", "mimeType": "text/csv", "buffer": LIST}])
    follow(page, page.get_by_role("button", name="上传并匹配"))

    counts = {key: page.locator(f"[data-report={key}]").inner_text()
              for key in ("matched", "joined", "already_checked", "unmatched", "invalid")}
    problems = {page.locator("[data-problem-code]").nth(i).get_attribute("data-problem-code")
                for i in range(page.locator("[data-problem-code]").count())}
    expect(page.get_by_role("heading", name="导入报告")).to_be_visible()
    assert counts == {"matched": "1", "joined": "1", "already_checked": "0", "unmatched": "1",
                      "invalid": "1"}
    assert problems == {"WARNING_ROW_UNMATCHED", "ID_CHECKSUM"}
    follow(page, page.get_by_role("link", name="预警名单"))
    expect(page.locator("table.warning-lists tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="医保民政预警名单.csv")).to_be_visible()


def test_the_village_feeds_back_the_home_check_of_a_task(console, live_server, seeded):
    """Issue 13: the village user sees the task; a result without what was found is refused
    with the rule's message on the page (WARNING_RESULT_REQUIRED), a county user may not feed
    back (FORBIDDEN_ROLE), and outcome 02 closes the task and opens an identification case."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    console.login("county")
    uploaded = console.post("/warnings", files={"file": ("名单.csv", LIST, "text/csv")})
    task = re.search(r'data-task-id="(\d+)"', console.get("/warnings/tasks").text).group(1)
    by_county = console.post(f"/warnings/tasks/{task}/result",
                             {"outcome": "02", "result": "已入户"})
    console.login("village")
    due_before = console.get("/").text
    blank = console.post(f"/warnings/tasks/{task}/result", {"outcome": "02", "result": " "})
    done = console.post(f"/warnings/tasks/{task}/result",
                        {"outcome": "02", "result": "户主住院，医疗负担重，纳入识别"})
    open_tasks = console.get("/warnings/tasks")
    due_after = console.get("/").text
    closed = console.get("/warnings/tasks?open=0")

    assert uploaded.status_code == 201
    assert by_county.status_code == 403 and 'data-error-code="FORBIDDEN_ROLE"' in by_county.text
    assert blank.status_code == 400 and 'data-error-code="WARNING_RESULT_REQUIRED"' in blank.text
    assert done.status_code == 302
    assert f'data-task-id="{task}"' not in open_tasks.text
    # 工作台 counts the task until it is fed back
    assert re.search(r'data-due="warning-tasks">.*?data-count="1"', due_before, re.S)
    assert due_before.count('data-due="evaluations"') == 2  # the village evaluates: 2 quarters
    assert re.search(r'data-due="warning-tasks">.*?data-count="0"', due_after, re.S)
    assert f'data-task-id="{task}"' in closed.text and "识别案件" in closed.text
