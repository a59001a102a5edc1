"""统计看板 (issue 13, page 8): the county's counts as charts with their tables, inside the
reader's area. The counts themselves are tested on both databases in
tests/integration/test_reports.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from server.households.models import Household
from server.pipeline.models import Case
from server.pipeline.services import assign_contact
from tests.integration.conftest import user
from tests.support.console import follow, log_in
from tests.support.rest import Api
from tests.support.seed import OTHER_TOWNSHIP, VILLAGE

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("console_dashboard_browser")]


def _at_county_approval(db) -> int:
    """A household's identification waiting for the county, its monitoring contact paired
    (written as the procedure leaves it; the whole procedure is run in
    tests/integration/test_cases.py). Committed; the case's id."""
    household = Household(id=str(uuid.uuid4()), area_code=f"{VILLAGE}001",
                          monitoring_type="02")
    db.add(household)
    entered = datetime.now(UTC) - timedelta(days=2)
    case = Case(procedure="identification", step="county_approval", area_code=household.area_code,
                household_id=household.id, opened_at=entered - timedelta(days=20),
                step_entered_at=entered)
    db.add(case)
    db.flush()
    assign_contact(db, household.id, user(db, "township"), "刘强", "洪市镇人民政府", "副镇长")
    db.commit()
    return case.id


def _numbers(page) -> dict[str, str]:
    """The totals, this month's approvals and the county step's open cases, as shown."""
    months = page.locator("[data-table=months] tbody tr")
    steps = page.locator("[data-table=steps] [data-key='identification/county_approval'] td")
    return {
        "monitored": page.locator("[data-total=monitored]").inner_text(),
        "open": page.locator("[data-total=open-cases]").inner_text(),
        "identified this month": months.last.locator("td").nth(1).inner_text(),
        "at county approval": steps.nth(1).inner_text(),
    }


def test_a_county_user_sees_the_counts_change_after_approving_a_case(page, live_server, db):
    """Issue 13: the county user's dashboard — drawn by ECharts, the same numbers in tables —
    counts one more monitoring object and one fewer case at 县级审定 once the county approves
    the identification."""
    case_id = _at_county_approval(db)
    log_in(page, live_server, "county")
    follow(page, page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计看板"))
    before = _numbers(page)
    # every chart drawn (a locator expectation: a string predicate would be evaluated in the
    # page, which its Content-Security-Policy may refuse)
    expect(page.locator(".chart:not([data-drawn])")).to_have_count(0, timeout=30_000)
    drawn = page.locator(".chart[data-drawn]").count()

    county = Api(live_server, "county")
    approved = county.http.post(f"{county.base}/cases/{case_id}/actions",
                                json={"action": "approve", "opinion": "比对审定通过"},
                                headers={"If-Match": "*"}, timeout=30)
    page.reload()
    after = _numbers(page)

    assert approved.status_code == 200, approved.text
    assert drawn == page.locator(".chart").count() == 7
    assert before == {"monitored": "0", "open": "1", "identified this month": "0",
                      "at county approval": "1"}
    assert after == {"monitored": "1", "open": "0", "identified this month": "1",
                     "at county approval": "0"}


def test_the_dashboard_keeps_to_the_readers_area(console):
    """Issue 13: a township user counts its own villages; another township is NOT_FOUND, a
    malformed area AREA_CODE_INVALID, and a village user may not open the dashboard."""
    console.login("township")
    own = console.get("/dashboard")
    other = console.get(f"/dashboard?area={OTHER_TOWNSHIP}")
    malformed = console.get("/dashboard?area=43x")
    console.login("village")
    village = console.get("/dashboard")

    assert own.status_code == 200 and "洪市镇" in own.text
    assert 'data-error-code="NOT_FOUND"' in other.text and other.status_code == 404
    assert 'data-error-code="AREA_CODE_INVALID"' in malformed.text
    assert village.status_code == 403
