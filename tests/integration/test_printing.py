"""The printed forms (issue 14; SPEC §7 "the printed forms", the personal-data rule): 附件3 and
附件5 per case in two copies with the collected signatures as images, 附件4 per village and
period, 附件1 and 附件2 per household, a village's batch as one PDF — read back with poppler
(text, pages, images), over real HTTP on SQLite and PostgreSQL, each print audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.domain.idnumber import mask, mask_phone
from server.domain.pipeline import Action
from server.domain.printed import chinese_date
from server.pipeline.services import lock_case
from server.pipeline.signatures import act_signed
from server.printing import queries
from tests.integration.conftest import user
from tests.support.printing import (
    GROUP,
    images_per_page,
    page_count,
    pdf_text,
    printable,
)
from tests.support.rest import Api
from tests.support.seed import VILLAGE

pytestmark = pytest.mark.slow


@pytest.fixture
def printed(app, db):
    return printable(db, app.extensions["fangpin.media"])


def _pdf(api: Api, path: str, **params) -> bytes:
    response = api.get(path, **params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return response.content


def _prints(db) -> list[AuditEntry]:
    db.rollback()  # a new transaction: what the requests committed since
    return db.scalars(select(AuditEntry).where(AuditEntry.action == "print.created")
                      .order_by(AuditEntry.id)).all()


def test_approval_prints_two_copies_with_the_signatures_and_masked_ids(live_server, db,
                                                                      printed):
    """附件3: one page per copy (乡镇留存, 村留存), the head's name and masked ID number, the
    risks found (① A34 below the line, ② housing, ⑥ illness), the county's seal line with the
    day of its approval in Chinese; on each copy the team's two signatures, the village party
    secretary's and the township's two as images; the print is audited as masked."""
    head = printed.done.head
    data = _pdf(Api(live_server, "county"), f"/cases/{printed.identification}/print/approval.pdf")

    text = pdf_text(data)
    assert page_count(data) == 2
    assert "防止返贫监测对象识别审批表" in text and "乡镇留存" in text and "村留存" in text
    assert head.name in text and mask(head.id_number) in text
    assert head.id_number not in text
    assert mask_phone(printed.done.phone) in text and printed.done.phone not in text
    assert "存在（填序号）①②问题，存在（填序号）⑥类型返贫风险" in text
    assert f"衡阳县乡村振兴局（盖章）{chinese_date(printed.day(35))}" in text
    assert images_per_page(data) == {1: 5, 2: 5}
    entry = _prints(db)[-1]
    assert (entry.object_type, entry.object_id) == ("case", str(printed.identification))
    assert entry.details["form"] == "approval" and entry.details["masked"] is True
    assert entry.details["pages"] == 2 and entry.user_id is not None


def test_full_numbers_only_for_the_county_and_only_when_asked(live_server, db, printed):
    """SPEC §7: the county prints full ID numbers when it asks (full=1), audited as unmasked;
    a township user asking for them is refused (FORBIDDEN_ROLE) and prints masked ones."""
    head = printed.done.head
    path = f"/cases/{printed.elimination}/print/elimination.pdf"
    full = pdf_text(_pdf(Api(live_server, "county"), path, full=1))
    township = Api(live_server, "township")
    refused = township.get(path, full=1)
    masked = pdf_text(_pdf(township, path))

    assert head.id_number in full and printed.done.phone in full
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN_ROLE"
    assert mask(head.id_number) in masked and head.id_number not in masked
    assert [e.details["masked"] for e in _prints(db)] == [False, True]


def test_elimination_prints_the_household_heads_confirmation(live_server, printed):
    """附件5: two copies; the team's two signatures, the household head's, the village's and
    the township's two on each; the risks the household was identified with; the county's day;
    附件3 of an elimination case is refused (PRINT_WRONG_PROCEDURE)."""
    api = Api(live_server, "county")
    data = _pdf(api, f"/cases/{printed.elimination}/print/elimination.pdf")
    wrong = api.get(f"/cases/{printed.elimination}/print/approval.pdf")

    text = pdf_text(data)
    assert "防止返贫监测对象风险消除评估表" in text and "户主签名" in text
    assert "存在（填序号）①②问题，存在（填序号）⑥返贫风险" in text
    assert f"乡村振兴局（盖章）{chinese_date(printed.day(3))}" in text
    assert images_per_page(data) == {1: 6, 2: 6}
    assert wrong.status_code == 409 and wrong.json()["code"] == "PRINT_WRONG_PROCEDURE"


def test_a_user_outside_the_area_finds_nothing_to_print(live_server, db, printed):
    """Area scope: a helper of another township gets 404 for the case, the household and the
    village, and nothing is audited."""
    other = Api(live_server, "helper_other")
    household = printed.done.household_id
    for path in (f"/cases/{printed.identification}/print/approval.pdf",
                 f"/households/{household}/print/application.pdf",
                 f"/print/villages/{VILLAGE}/approval.pdf"):
        response = other.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "NOT_FOUND"
    assert _prints(db) == []


def test_the_public_notice_sheet_of_a_village(live_server, printed):
    """附件4 for a period: one sheet per village review and notice, with 评议时间 and 公示时间
    in Chinese, each household's row (name, size, masked phone, risks, measures, contact), and
    the verifiers' signatures under it."""
    api = Api(live_server, "village")
    start, end = printed.day(60), printed.day(0)
    data = _pdf(api, f"/print/villages/{VILLAGE}/measures.pdf", **{
        "from": start.isoformat(), "to": end.isoformat()})

    text = pdf_text(data)
    assert text.count("防止返贫监测对象帮扶措施落实情况表") == page_count(data) == 3
    assert printed.done.head.name in text and printed.noticed.head.name in text
    assert mask_phone(printed.noticed.phone) in text
    assert f"公示时间：{chinese_date(printed.day(8))}至{chinese_date(printed.day(0))}" in text
    assert f"评议时间：{chinese_date(printed.day(8))}" in text
    assert "产业帮扶：种植业、养殖业" in text
    assert all(count >= 2 for count in images_per_page(data).values())


def test_application_and_survey_of_a_household(live_server, printed):
    """附件1 with the head's name, the household's risks and the applicant's signature; 附件2
    filled from the latest survey: the members, the server's income figures with two places."""
    api = Api(live_server, "county")
    household = printed.done.household_id
    application = _pdf(api, f"/households/{household}/print/application.pdf")
    survey = _pdf(api, f"/households/{household}/print/survey.pdf")

    text = pdf_text(application)
    assert "防止返贫监测对象个人申请及承诺授权书" in text
    assert printed.done.head.name in text and "我家因①②⑥存在返贫致贫风险" in text
    assert images_per_page(application) == {1: 1}
    filled = pdf_text(survey)
    assert all(member.name in filled for member in printed.done.members)
    assert "A34家庭人均纯收入(元)4000.00" in filled  # A33 12 000.00 / 3 people
    assert mask(printed.done.head.id_number) in filled


def test_a_blank_survey_and_a_village_batch(live_server, db, printed):
    """A blank 附件2 for a household without a phone (no one's data on it); a village's 附件3
    as one PDF: two pages per identification case, audited with the households printed."""
    api = Api(live_server, "township")
    blank = _pdf(api, "/print/blank/survey.pdf", area=GROUP)
    batch = _pdf(api, f"/print/villages/{VILLAGE}/approval.pdf")

    text = pdf_text(blank)
    assert "防止返贫监测对象信息采集表" in text and "空白表" in text
    assert printed.done.head.name not in text
    assert page_count(batch) == 4
    text = pdf_text(batch)
    assert printed.done.head.name in text and printed.noticed.head.name in text
    entry = _prints(db)[-1]
    assert (entry.object_type, entry.object_id) == ("area", VILLAGE)
    assert entry.details["households"] == 2 and entry.details["pages"] == 4


def test_a_village_batch_of_surveys_and_eliminations(live_server, db, printed):
    """A village's 附件2 (one per surveyed household, two landscape pages each) and 附件5 (the
    one elimination, two copies) as one PDF each; a period that ends before any case opened
    prints the empty notice page instead."""
    api = Api(live_server, "county")
    surveys = _pdf(api, f"/print/villages/{VILLAGE}/survey.pdf")
    eliminations = _pdf(api, f"/print/villages/{VILLAGE}/elimination.pdf")
    before = _pdf(api, f"/print/villages/{VILLAGE}/elimination.pdf",
                  **{"from": "2020-01-01", "to": "2020-12-31"})

    text = pdf_text(surveys)
    assert page_count(surveys) == 4
    assert printed.done.head.name in text and printed.noticed.head.name in text
    assert page_count(eliminations) == 2 and printed.done.head.name in pdf_text(eliminations)
    assert "没有需要打印的附件5" in pdf_text(before)
    assert [e.details["households"] for e in _prints(db)] == [2, 1, 0]


def test_a_return_empties_the_boxes_of_the_steps_to_be_done_again(live_server, app, db,
                                                                  printed):
    """SPEC §6 (a step can return a case): the township returns the case into the public
    notice; the village secretary's signature and day leave 附件3 until the notice ends and is
    signed again — the team's stay."""
    api = Api(live_server, "township")
    path = f"/cases/{printed.notice_case}/print/approval.pdf"
    before = _pdf(api, path)
    db.rollback()  # a new transaction, after the print's audit entry
    township = user(db, "township")
    case = lock_case(db, printed.notice_case, township)
    act_signed(db, app.extensions["fangpin.media"], case, Action.RETURN, township,
               printed.day(0), "公示期间有异议未核实，退回重新公示", [])
    db.commit()
    after = _pdf(api, path)

    assert images_per_page(before) == {1: 3, 2: 3}
    assert images_per_page(after) == {1: 2, 2: 2}
    assert chinese_date(printed.day(0)) in pdf_text(before)
    assert chinese_date(printed.day(0)) not in pdf_text(after)


def test_a_batch_over_the_limit_is_refused(live_server, db, printed, monkeypatch):
    """A batch prints inline (background jobs come later): over its limit of households it is
    refused with PRINT_TOO_MANY, and nothing is audited."""
    monkeypatch.setattr(queries, "BATCH_LIMIT", 1)
    response = Api(live_server, "county").get(f"/print/villages/{VILLAGE}/survey.pdf")

    assert response.status_code == 409 and response.json()["code"] == "PRINT_TOO_MANY"
    assert response.json()["details"] == {"limit": "1", "count": "2"}
    assert _prints(db) == []


def test_a_village_batch_as_a_background_job(live_server, db, printed):
    """POST …/jobs queues the batch (refused before queueing when full numbers are asked below
    the county); the job's file is the same PDF, and the print is audited as the asker's."""
    import time

    township = Api(live_server, "township")
    refused = township.http.post(f"{township.base}/print/villages/{VILLAGE}/approval/jobs",
                                 params={"full": "1"}, timeout=60)
    queued = township.http.post(f"{township.base}/print/villages/{VILLAGE}/approval/jobs",
                                timeout=60)
    deadline = time.monotonic() + 120
    while (job := township.get(f"/jobs/{queued.json()['id']}").json())["state"] not in (
            "done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    data = township.get(f"/jobs/{job['id']}/file").content

    assert refused.json()["code"] == "FORBIDDEN_ROLE"
    assert queued.status_code == 202
    assert (job["state"], job["done"]) == ("done", 2)
    assert job["result_name"].endswith(".pdf")
    assert page_count(data) == 4 and printed.noticed.head.name in pdf_text(data)
    entry = _prints(db)[-1]
    assert (entry.object_type, entry.object_id, entry.user_id) == (
        "area", VILLAGE, user(db, "township").id)
    assert entry.details["job_id"] == job["id"] and entry.details["masked"] is True
