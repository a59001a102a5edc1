"""The download buttons of the console's 农户 and 案件 lists (issue 14): the list's filters go
with the download where they map, the file is the export service's (audited), and only roles
that may export see the buttons or reach the route."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import openpyxl
import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from tests.api.test_monitoring import OTHER_HEAD, identify
from tests.api.test_monitoring import post_household as post_signed_household
from tests.support.console import Console, log_in
from tests.support.households import HEAD, SPOUSE
from tests.support.seed import VILLAGE


def _forms(html: str) -> list[str]:
    return re.findall(r'<form method="get" action="[^"]*" class="filters card export".*?</form>',
                      html, re.S)


def test_the_household_list_downloads_with_its_village_filter(live_server, seeded, db):
    monitored = post_signed_household(live_server, seeded, db, [HEAD, SPOUSE])
    post_signed_household(live_server, seeded, db, [OTHER_HEAD])
    identify(db, monitored)
    county = Console(live_server)
    county.login("county")

    page = county.get("/households", params={"village": VILLAGE, "name": "张三"}).text

    [form] = _forms(page)
    assert f'name="area_code" value="{VILLAGE}"' in form
    assert "不按姓名、身份证号码查找" in form and 'name="full"' in form
    actions = [unescape(a) for a in re.findall(r'formaction="([^"]+)"', form)]
    assert actions == [f"/console/exports/{d}" for d in (
        "households", "members", "measures", "eliminations", "evaluations", "media")]
    photos = county.get("/exports/media", params={"area_code": VILLAGE, "format": "xlsx",
                                                  "labels": "1", "profile": "full"})
    assert photos.status_code == 200 and photos.headers["Content-Type"] == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(photos.content)).namelist()) == 4 + 1
    response = county.get("/exports/members", params={"area_code": VILLAGE, "format": "xlsx",
                                                      "labels": "1", "profile": "national"})
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["家庭成员"]
    assert sheet.max_row == 1 + 3
    db.commit()
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "export.created",
                                                AuditEntry.object_id == "members")).one()
    assert entry.details["filters"] == {"area_code": VILLAGE} and entry.details["rows"] == 3


def test_the_case_list_downloads_with_its_filters(live_server, seeded, db):
    identify(db, post_signed_household(live_server, seeded, db, [HEAD]))
    county = Console(live_server)
    county.login("county")

    page = county.get("/cases", params={"procedure": "identification", "status": "done",
                                        "overdue": "0"}).text

    [form] = _forms(page)
    hidden = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    assert hidden == {"procedure": "identification", "status": "done"}
    assert "不按逾期筛选" in form
    rows = county.get("/exports/cases", params={**hidden, "format": "csv"}).content
    assert rows.startswith(b"\xef\xbb\xbf# ") and rows.decode("utf-8-sig").count("\r\n") == 3


def test_village_users_see_no_download_and_are_refused(live_server, seeded):
    village = Console(live_server)
    village.login("village")

    assert _forms(village.get("/households").text) == []
    assert _forms(village.get("/cases").text) == []
    refused = village.get("/exports/households")
    assert refused.status_code == 403 and 'data-error-code="FORBIDDEN_ROLE"' in refused.text


def test_a_township_user_sees_no_full_numbers_box(live_server, seeded):
    township = Console(live_server)
    township.login("township")

    [form] = _forms(township.get("/households").text)

    assert 'name="full"' not in form and "下载照片和签名" not in form
    assert township.get("/exports/media").status_code == 403
    refused = township.get("/exports/households", params={"full": "1"})
    assert refused.status_code == 403 and 'data-error-code="EXPORT_FULL_FORBIDDEN"' in refused.text


@pytest.mark.slow
def test_a_county_user_clicks_download_in_the_browser(page, live_server, seeded, db):
    post_signed_household(live_server, seeded, db, [HEAD, SPOUSE])
    log_in(page, live_server, "county")
    page.goto(f"{live_server}/console/households")

    with page.expect_download() as download:
        page.get_by_role("button", name="下载农户").click()

    assert download.value.suggested_filename.startswith("农户_衡阳县_")
    assert download.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames == ["导出说明", "农户"] and book["农户"].max_row == 2
