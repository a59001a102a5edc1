"""案件 and 公示 in headless Chromium (issue 13, pages 2, 3 and 7): a village user approves a case
with a signature image; a township user is refused an approval without the signatures, then
returns the case with a reason; a county user bulk-approves ten cases, one refused answered with
its rule; two people act on one case and the second sees that it changed; the public-notice
list prints without the navigation. Each test a person's whole errand; the rules themselves are
tested in the services."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.pipeline.models import Case, CaseEvent, Objection
from tests.support.cases import case_at, signature_image
from tests.support.console import follow, log_in
from tests.support.seed import TOWNSHIP, VILLAGE

# One Chromium for the module (a module-scoped browser): one parallel worker runs the module.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("console_cases_browser")]


def _case(db, case_id: int) -> Case:
    db.expire_all()
    return db.get(Case, case_id)


def test_a_village_user_ends_the_notice_with_the_secretarys_signature(page, live_server, db,
                                                                      tmp_path):
    """SPEC §6: the village party secretary signs 附件3 when the 7-day notice has ended; the
    approval uploads the signature image (signature_village_secretary) and the case goes to the
    township. The steps log shows who acted and the signature as an image."""
    case_id = case_at(db, "public_notice", VILLAGE, notice_days_ago=10)
    signature = tmp_path / "secretary.png"
    signature.write_bytes(signature_image("village_secretary"))
    log_in(page, live_server, "village")

    page.goto(f"{live_server}/console/cases")
    follow(page, page.get_by_role("link", name=str(case_id), exact=True))
    expect(page.locator("[data-notice-can-end-on]")).to_be_visible()
    page.get_by_role("radio", name="通过").check()
    page.get_by_label("村（居委会）支部书记签名（图片）").set_input_files(str(signature))
    follow(page, page.get_by_role("button", name="提交办理"))

    expect(page.locator("[data-case-id]").first).to_have_attribute("data-step", "township_review")
    approval = page.locator('tr[data-event-action="approve"]')
    assert "测试village" in approval.inner_text()
    image = approval.get_by_role("img", name="村（居委会）支部书记签名")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 200 + 10 * 2
    assert _case(db, case_id).step == "township_review"


def test_a_township_user_is_refused_without_signatures_then_returns_with_a_reason(
        page, live_server, db):
    """SPEC §6: a refused approval shows the rule's Chinese message on the case page (409
    SIGNATURE_MISSING: the township secretary and head sign 附件3), nothing changes; a return
    needs a reason and sends the case back one step, restarting its notice."""
    case_id = case_at(db, "township_review", VILLAGE)
    log_in(page, live_server, "township")
    page.goto(f"{live_server}/console/cases/{case_id}")

    page.get_by_role("radio", name="通过").check()
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        follow(page, page.get_by_role("button", name="提交办理"))
    error = page.locator("#act [data-error-code]")
    assert refused.value.status == 409
    assert error.get_attribute("data-error-code") == "SIGNATURE_MISSING"
    assert "乡镇党委书记" in error.inner_text()

    page.get_by_role("radio", name="退回").check()
    assert page.get_by_label("意见（退回、驳回须填写理由）").evaluate("el => el.required")
    page.get_by_label("意见（退回、驳回须填写理由）").fill("公示照片缺失，请补充后重新公示")
    follow(page, page.get_by_role("button", name="提交办理"))

    expect(page.locator("[data-case-id]").first).to_have_attribute("data-step", "public_notice")
    assert "公示照片缺失" in page.locator('tr[data-event-action="return"]').inner_text()
    case = _case(db, case_id)
    assert (case.step, case.notice_started is not None) == ("public_notice", True)


def test_a_county_user_bulk_approves_ten_cases_and_sees_each_outcome(page, live_server, db):
    """SPEC §6 (county approval) and issue 13 (bulk approve, answered per case): ten cases with
    their monitoring contacts become monitoring objects; the eleventh, without one, is refused
    with CONTACT_REQUIRED and stays at its step."""
    ready = [case_at(db, "county_approval", VILLAGE, contact=True) for _ in range(10)]
    lacking = case_at(db, "county_approval", f"{TOWNSHIP}200", household=True)
    log_in(page, live_server, "county")

    page.goto(f"{live_server}/console/")
    tile = page.locator('.tiles [data-step="county_approval"]').first
    follow(page, tile.get_by_role("link").first)
    expect(page.locator("tr[data-case-id]")).to_have_count(11)
    page.get_by_label("全选本页").check()
    page.get_by_role("radio", name="通过").check()
    follow(page, page.get_by_role("button", name="批量办理"))

    results = page.locator("tr[data-result-case]")
    assert page.locator("[data-succeeded]").get_attribute("data-succeeded") == "10"
    expect(results).to_have_count(11)
    refused = page.locator(f'tr[data-result-case="{lacking}"]')
    assert refused.get_attribute("data-error-code") == "CONTACT_REQUIRED"
    assert "联系人" in refused.inner_text()
    db.expire_all()
    statuses = dict(db.execute(select(Case.id, Case.status)
                               .where(Case.id.in_([*ready, lacking]))).all())
    assert [statuses[c] for c in ready] == ["done"] * 10 and statuses[lacking] == "open"


def test_the_second_of_two_people_acting_on_one_case_sees_that_it_changed(
        browser, page, live_server, db):
    """Issue 13 (the ETag rule): a helper and a township user open the same case at its home
    verification; the helper returns it; the township user's return, made on the page read
    before, is not applied: the case page says it changed and shows it as it is now."""
    case_id = case_at(db, "verification", VILLAGE)
    other = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    second = other.new_page()
    try:
        log_in(page, live_server, "helper")
        log_in(second, live_server, "township")
        for each in (page, second):
            each.goto(f"{live_server}/console/cases/{case_id}")
            each.get_by_role("radio", name="退回").check()
            each.get_by_label("意见（退回、驳回须填写理由）").fill("核实材料不全")

        follow(page, page.get_by_role("button", name="提交办理"))
        with second.expect_response(lambda r: r.request.method == "POST") as answer:
            second.get_by_role("button", name="提交办理").click()

        assert answer.value.status == 412
        notice = second.locator('[data-error-code="CASE_CHANGED"]')
        assert "已被他人办理或更改" in notice.inner_text()
        expect(second.locator("[data-case-id]").first).to_have_attribute("data-step",
                                                                        "application")
        db.expire_all()
        returns = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                     CaseEvent.action == "return")).all()
        assert len(returns) == 1 and _case(db, case_id).step == "application"
    finally:
        other.close()


def test_the_public_notice_list_prints_without_the_navigation(page, live_server, db):
    """SPEC §6/§7 (附件4 public notice): a village's notice list for a period, printable from
    the browser — the print stylesheet hides the navigation and the filters."""
    running = case_at(db, "public_notice", VILLAGE, household=True, notice_days_ago=2)
    log_in(page, live_server, "village")
    follow(page, page.get_by_role("navigation", name="主导航").get_by_role("link", name="公示"))

    expect(page.locator(f'tr[data-case-id="{running}"]')).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="主导航")).to_be_hidden()
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator("table.notice-list")).to_be_visible()


# --- without a browser: scope, role, files, objections and contacts --------------------------


def _version(console, case_id: int) -> str:
    """The case version the case page's action form carries."""
    return re.search(r'name="version" value="(\d+)"', console.get(f"/cases/{case_id}").text)[1]


def test_the_case_pages_keep_to_the_users_area_and_role(console, db):
    """SPEC §1 and issue 13: a case, a notice list or a signature outside the user's area or
    case is not found (404 NOT_FOUND, a Chinese page); bulk actions are the reviewing levels'
    (403 FORBIDDEN_ROLE for a village user)."""
    there = case_at(db, "application", "430421201200")  # 岣嵝乡: another township
    here = case_at(db, "public_notice", VILLAGE, notice_days_ago=1)
    console.login("township")

    other_case = console.get(f"/cases/{there}")
    other_list = console.get("/notices", params={"village": "430421201200"})
    foreign_key = console.get(f"/cases/{here}/signatures/{'0' * 64}")
    listed = console.get("/cases")
    console.login("village")
    bulk = console.post("/cases/bulk", {"case_id": str(here), "action": "approve"})

    for answer in (other_case, other_list, foreign_key):
        assert answer.status_code == 404
    assert 'data-error-code="NOT_FOUND"' in other_case.text
    assert f'data-case-id="{here}"' in listed.text and f'data-case-id="{there}"' not in listed.text
    assert bulk.status_code == 403 and 'data-error-code="FORBIDDEN_ROLE"' in bulk.text


def test_an_attachment_of_a_step_is_linked_on_the_case_and_its_download_audited(console, db):
    """SPEC §6 (the steps with their documents) and §7 (every export of personal data is
    logged): the village review's minutes, uploaded with the approval, are a link of the step;
    downloading it is audited."""
    case_id = case_at(db, "village_review", VILLAGE)
    console.login("village")

    acted = console.post(f"/cases/{case_id}/act", {"action": "approve",
                                                   "version": _version(console, case_id)},
                         files=[("attachment", ("评议记录.pdf", b"%PDF-1.4 minutes",
                                                "application/pdf")),
                                ("signature_village_secretary", ("", b"", "image/png"))])
    shown = console.get(f"/cases/{case_id}").text
    link = shown.split('href="/console/cases/')[1].split('"')[0]
    download = console.get(f"/cases/{link}")

    assert acted.status_code == 302
    assert "评议记录.pdf" in shown
    assert download.status_code == 200 and download.content == b"%PDF-1.4 minutes"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert db.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.attachment_downloaded")) is not None


def test_objections_and_the_monitoring_contact_are_kept_on_the_case_page(console, db):
    """SPEC §6: an objection raised during the notice holds it open until it is closed with
    the investigation's result; a monitoring contact is replaced only with a reason (the
    refusal is shown on the page: 400 REASON_REQUIRED)."""
    case_id = case_at(db, "public_notice", VILLAGE, household=True, notice_days_ago=10)
    console.login("village")

    raised = console.post(f"/cases/{case_id}/objections", {"text": "该户有经营性货车"})
    objection = db.scalar(select(Objection).where(Objection.case_id == case_id))
    held = console.post(f"/cases/{case_id}/act", {"action": "approve",
                                                  "version": _version(console, case_id)})
    closed = console.post(f"/cases/{case_id}/objections/{objection.id}/close",
                          {"result": "经核实货车已于2020年转卖"})
    paired = console.post(f"/cases/{case_id}/contacts", {
        "name": "刘强", "unit": "洪市镇人民政府", "position": "副镇长", "phone": "13800000000"})
    unexplained = console.post(f"/cases/{case_id}/contacts", {
        "name": "王芳", "unit": "洪市镇人民政府", "position": "干部"})
    page = console.get(f"/cases/{case_id}").text

    assert (raised.status_code, closed.status_code, paired.status_code) == (302, 302, 302)
    assert held.status_code == 409 and 'data-error-code="NOTICE_OBJECTION_OPEN"' in held.text
    assert unexplained.status_code == 400
    assert 'data-error-code="REASON_REQUIRED"' in unexplained.text
    assert 'data-objection-status="closed"' in page and "经核实货车已于2020年转卖" in page
    assert page.count('data-contact-current="1"') == 1 and "刘强" in page


def test_an_action_too_large_is_refused_before_its_form_is_read(console, db):
    """The one request-size limit (MAX_SUBMISSION_BYTES, here 2 MiB) holds for the console's
    uploads too: refused with 413 SUBMISSION_TOO_LARGE, nothing done."""
    case_id = case_at(db, "village_review", VILLAGE)
    console.login("village")

    refused = console.post(f"/cases/{case_id}/act", {"action": "approve",
                                                     "version": _version(console, case_id)},
                           files=[("attachment", ("big.pdf", b"%PDF-" + b"0" * 3 * 2**20,
                                                  "application/pdf"))])

    assert refused.status_code == 413
    assert 'data-error-code="SUBMISSION_TOO_LARGE"' in refused.text
    assert _case(db, case_id).step == "village_review"
