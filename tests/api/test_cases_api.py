"""The case API over real HTTP (issue 6): the steps log, signatures uploaded at a step, ETags for
safe concurrent edits, bulk actions, objections, monitoring contacts, green-channel measures,
and the filters and sorting of the case list. Every rule is checked both ways, on SQLite and
PostgreSQL.

The server's clock is real: where a rule needs days to pass (the 7-day notice, a closed case),
the test moves the case's own dates back in the database.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from openapi_spec_validator import validate
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.clock import today
from server.pipeline.models import Case
from tests.api.test_api import api
from tests.support.cases import monitoring_object, signature_image, signature_parts
from tests.support.collect import CollectClient, form_instance, jpeg_bytes, png_bytes
from tests.support.households import CHILD, HEAD, SPOUSE, SURVEY_FIELDS, address, id_number
from tests.support.seed import VILLAGE

OTHER_VILLAGE = "430421201200"  # 岣嵝乡杉云村委会: outside 洪市镇
NEIGHBOUR_VILLAGE = "430421107200"  # 洪市镇泰山村委会: inside 洪市镇, outside 洪罗庙社区
SECOND_HEAD = {**HEAD, "a5_name": "王五", "a7_id_number": id_number("430421", "19700707", 71)}
THIRD_HEAD = {**HEAD, "a5_name": "赵六", "a7_id_number": id_number("430421", "19710808", 81)}


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def team_png(n: int) -> bytes:
    """The n-th verification team member's signature (each a different image)."""
    return png_bytes((100 + n, 40))


APPLICANT_PNG = png_bytes((90, 30))  # the applicant's signature on 附件1, on the phone


def submit_household(live_server, seeded, members=(HEAD, SPOUSE, CHILD), signatures=2,
                     applicant_signs=True) -> str:
    """A household surveyed on the phone (helper, 洪罗庙社区) with ``signatures`` team
    signatures and, unless ``applicant_signs`` is false, 附件1 signed by the applicant
    (``sig_applicant``); its id."""
    fields = {**SURVEY_FIELDS, **address(VILLAGE), "phone": "13812345678"}
    if applicant_signs:
        fields |= {"applicant_can_sign": "01", "sig_applicant": "sig.png"}
    xml = form_instance("household", seeded.form_versions["household"], fields, list(members))
    team = "".join(f"<team><team_signature>t{n}.png</team_signature></team>"
                   for n in range(1, signatures + 1))
    xml = xml.replace(b"<meta>", team.encode() + b"<meta>")
    files = {f"t{n}.png": team_png(n) for n in range(1, signatures + 1)}
    if applicant_signs:
        files["sig.png"] = APPLICANT_PNG
    response = CollectClient(live_server, seeded.tokens["helper"]).submit(xml, files)
    assert response.status_code == 201, response.text
    county = api(live_server, "county")
    rows = county.get(f"{county.base}/households", params={"page_size": 100}, timeout=10).json()
    return next(r["id"] for r in rows if r["head_id_number"] == members[0]["a7_id_number"])


def submit_measures(live_server, seeded, household: str, day, **values) -> None:
    xml = form_instance("measures", seeded.form_versions["measures"], {
        "household": household, "measure_date": day.isoformat(), "green_channel": "02",
        "a39_industry": "01 03", "a39_effect": "发展养殖，年增收3000元", **values})
    response = CollectClient(live_server, seeded.tokens["helper"]).submit(xml)
    assert response.status_code == 201, response.text


def open_case(client, household: str, procedure="identification", origin="02") -> int:
    response = client.post(f"{client.base}/cases", json={
        "procedure": procedure, "household_id": household, "origin": origin}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def etag_of(client, case_id: int) -> str:
    response = client.get(f"{client.base}/cases/{case_id}", timeout=10)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def act(client, case_id: int, action="approve", opinion="", etag=None, files=None, signed=()):
    """POST an action with the case's current ETag (or ``etag``); ``files`` as multipart:
    [(file name, bytes, content type)] sent as ``signature`` parts (no signer named);
    ``signed`` more parts, such as ``signature_parts(procedure, step)`` gives."""
    headers = {"If-Match": etag or etag_of(client, case_id)}
    url = f"{client.base}/cases/{case_id}/actions"
    if files is None and not signed:
        return client.post(url, json={"action": action, "opinion": opinion}, headers=headers,
                           timeout=30)
    return client.post(url, data={"action": action, "opinion": opinion}, headers=headers,
                       files=[("signature", file) for file in files or ()] + list(signed),
                       timeout=30)


def events_of(client, case_id: int) -> list[dict]:
    response = client.get(f"{client.base}/cases/{case_id}/events", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def step_of(client, case_id: int) -> str:
    return client.get(f"{client.base}/cases/{case_id}", timeout=10).json()["step"]


def bare_case(db, area_code: str, step="application", procedure="identification") -> int:
    """A case without a household (as a declaration can start one), written directly."""
    case = Case(procedure=procedure, step=step, area_code=area_code)
    db.add(case)
    db.flush()
    case_id = case.id
    db.commit()
    return case_id


def audit(db, action: str) -> list[AuditEntry]:
    db.rollback()  # a fresh snapshot: see what the server committed since
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)
                           .order_by(AuditEntry.id)))


def to_public_notice(live_server, seeded) -> int:
    """A case run through the API to its public notice (started today)."""
    helper, village = api(live_server, "helper"), api(live_server, "village")
    case_id = open_case(helper, submit_household(live_server, seeded))
    for client in (helper, helper, village):
        assert act(client, case_id).status_code == 200
    assert step_of(helper, case_id) == "public_notice"
    return case_id


# --- the steps log --------------------------------------------------------------------------


def test_the_steps_log_says_who_when_what_and_from_which_step_to_which(live_server, seeded):
    """SPEC §6: each step recorded with who, when, opinion, signatures."""
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded))
    before = datetime.now(UTC)

    assert act(helper, case_id, opinion="户主已签字申请").status_code == 200
    opened, approved = events_of(helper, case_id)

    assert opened["action"] == "open" and opened["from_step"] is None
    assert opened["to_step"] == "application" and opened["to_step_name"] == "提交申请"
    assert approved["action"] == "approve" and approved["status"] == "open"
    assert (approved["from_step"], approved["to_step"]) == ("application", "verification")
    assert (approved["from_step_name"], approved["to_step_name"]) == ("提交申请", "入户核实")
    assert approved["user"]["name"] == "测试helper" and approved["user"]["role"] == "helper"
    assert isinstance(approved["user"]["id"], int)
    assert approved["opinion"] == "户主已签字申请" and approved["signatures"] == []
    assert datetime.fromisoformat(approved["at"]) >= before - timedelta(seconds=1)
    assert approved["id"] > opened["id"]


def test_the_steps_log_is_only_for_the_cases_area_and_cannot_be_changed(live_server, seeded):
    helper, other = api(live_server, "helper"), api(live_server, "helper_other")
    case_id = open_case(helper, submit_household(live_server, seeded))

    assert other.get(f"{other.base}/cases/{case_id}/events", timeout=10).status_code == 404
    assert helper.get(f"{helper.base}/cases/2147483647/events", timeout=10).status_code == 404
    deleted = helper.delete(f"{helper.base}/cases/{case_id}/events", timeout=10)
    assert deleted.status_code == 405
    assert len(events_of(helper, case_id)) == 1


# --- signatures -----------------------------------------------------------------------------


def test_signatures_uploaded_at_a_step_are_on_its_event_and_can_be_downloaded(
        live_server, seeded, db):
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded))
    first, second = png_bytes((300, 90)), jpeg_bytes((80, 40))

    response = act(helper, case_id, opinion="户主签字", files=[
        ("户主.png", first, "image/png"), ("证明人.jpg", second, "application/octet-stream")])

    assert response.status_code == 200, response.text
    assert response.json()["step"] == "verification"
    signatures = events_of(helper, case_id)[-1]["signatures"]
    assert [s["key"] for s in signatures] == [sha256(first), sha256(second)]
    for signature, content, kind in zip(signatures, (first, second),
                                        ("image/png", "image/jpeg"), strict=True):
        download = helper.get(f"{live_server}{signature['url']}", timeout=10)
        assert download.status_code == 200 and download.content == content
        assert download.headers["Content-Type"] == kind  # what Pillow found, not the claim
    assert [s["signer"] for s in signatures] == [None, None]  # no signer named
    [entry] = audit(db, "case.approve")
    assert entry.details["signatures"] == [{"key": sha256(first), "signer": None},
                                           {"key": sha256(second), "signer": None}]


def test_the_phones_team_signatures_are_listed_on_the_case_too(live_server, seeded):
    """The verification team's signatures (附件3) come from the household submission."""
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded))
    uploaded = png_bytes((310, 90))
    assert act(helper, case_id, files=[("a.png", uploaded, "image/png")]).status_code == 200

    listed = helper.get(f"{helper.base}/cases/{case_id}/signatures", timeout=10).json()

    assert sorted((s["source"], s["field"], s["signer"]) for s in listed) == [
        ("event", None, None), ("submission", "sig_applicant", "applicant"),
        ("submission", "team_signature", "verification_team"),
        ("submission", "team_signature", "verification_team")]
    assert listed[0]["event_id"] == events_of(helper, case_id)[-1]["id"]
    assert {s["key"] for s in listed[1:]} == {sha256(team_png(1)), sha256(team_png(2)),
                                              sha256(APPLICANT_PNG)}
    for signature in listed:
        download = helper.get(f"{live_server}{signature['url']}", timeout=10)
        assert download.status_code == 200 and sha256(download.content) == signature["key"]


def test_only_the_cases_own_signatures_can_be_downloaded_by_users_of_its_area(
        live_server, seeded, db):
    helper, other = api(live_server, "helper"), api(live_server, "helper_other")
    case_id = open_case(helper, submit_household(live_server, seeded))
    content = png_bytes((320, 90))
    assert act(helper, case_id, files=[("a.png", content, "image/png")]).status_code == 200
    url = f"{helper.base}/cases/{case_id}/signatures/{sha256(content)}"
    elsewhere = bare_case(db, f"{VILLAGE}001")

    assert helper.get(url, timeout=10).status_code == 200
    assert other.get(url, timeout=10).status_code == 404
    assert helper.get(f"{helper.base}/cases/{elsewhere}/signatures/{sha256(content)}",
                      timeout=10).status_code == 404
    assert helper.get(f"{helper.base}/cases/{case_id}/signatures/{'0' * 64}",
                      timeout=10).status_code == 404
    assert helper.get(f"{helper.base}/cases/{case_id}/signatures/{'Z' * 64}",
                      timeout=10).status_code == 404


def test_a_signature_that_is_not_an_image_refuses_the_action_and_stores_nothing(
        live_server, seeded, app):
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded))
    good, bad = png_bytes((330, 90)), b"%PDF-1.4 this is not a signature image"

    response = act(helper, case_id, opinion="户主签字", files=[
        ("户主.png", good, "image/png"), ("签名.pdf", bad, "image/png")])

    assert response.status_code == 422
    assert response.json()["code"] == "SIGNATURE_NOT_IMAGE"
    assert response.json()["details"] == {"name": "签名.pdf", "reason": "IMAGE_INVALID"}
    assert step_of(helper, case_id) == "application"
    assert [e["action"] for e in events_of(helper, case_id)] == ["open"]
    store = app.extensions["fangpin.media"]
    assert not store.exists(sha256(good)) and not store.exists(sha256(bad))


def test_signature_uploads_are_bounded_and_must_use_the_signature_field(live_server, seeded):
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded))
    url = f"{helper.base}/cases/{case_id}/actions"
    tag = {"If-Match": etag_of(helper, case_id)}

    too_many = act(helper, case_id, files=[(f"{n}.png", png_bytes((50 + n, 20)), "image/png")
                                           for n in range(11)])
    wrong_field = helper.post(url, data={"action": "approve"}, headers=tag, timeout=10,
                              files=[("signatures", ("a.png", png_bytes(), "image/png"))])
    no_action = helper.post(url, data={"opinion": "x"}, headers=tag, timeout=10,
                            files=[("signature", ("a.png", png_bytes(), "image/png"))])

    assert too_many.status_code == 422 and too_many.json()["code"] == "SIGNATURES_TOO_MANY"
    assert wrong_field.status_code == 400
    assert wrong_field.json()["code"] == "SIGNATURE_PART_UNKNOWN"
    assert wrong_field.json()["details"]["part"] == "signatures"
    assert no_action.status_code == 422 and "action" in no_action.json()["errors"]["form"]
    assert step_of(helper, case_id) == "application"


# --- ETags ----------------------------------------------------------------------------------


def test_an_action_needs_the_cases_current_etag(live_server, seeded):
    helper, village = api(live_server, "helper"), api(live_server, "village")
    case_id = open_case(helper, submit_household(live_server, seeded))
    seen = etag_of(helper, case_id)

    missing = helper.post(f"{helper.base}/cases/{case_id}/actions",
                          json={"action": "approve"}, timeout=10)
    moved = act(helper, case_id, etag=seen)
    stale = act(village, case_id, "reject", "收入高于标准", etag=seen)

    assert missing.status_code == 428 and missing.json()["code"] == "CASE_IF_MATCH_REQUIRED"
    assert moved.status_code == 200 and moved.headers["ETag"] != seen
    assert stale.status_code == 412 and stale.json()["code"] == "CASE_CHANGED"
    assert etag_of(helper, case_id) == moved.headers["ETag"]
    assert [e["action"] for e in events_of(helper, case_id)] == ["open", "approve"]
    not_modified = helper.get(f"{helper.base}/cases/{case_id}", timeout=10,
                              headers={"If-None-Match": moved.headers["ETag"]})
    assert not_modified.status_code == 304


def test_the_etag_changes_on_every_action(live_server, seeded):
    helper, village = api(live_server, "helper"), api(live_server, "village")
    case_id = open_case(helper, submit_household(live_server, seeded))
    tags = [etag_of(helper, case_id)]
    steps = [(helper, "approve", ""), (helper, "return", "材料不全"), (helper, "approve", ""),
             (helper, "approve", "核实小组2人"), (village, "return", "需重新核实"),
             (helper, "approve", ""), (village, "reject", "收入高于标准且无风险")]

    for client, action, opinion in steps:
        response = act(client, case_id, action, opinion, etag=tags[-1])
        assert response.status_code == 200, response.text
        tags.append(response.headers["ETag"])
        assert etag_of(helper, case_id) == tags[-1]

    assert len(set(tags)) == len(tags) == len(steps) + 1


@pytest.mark.concurrent
def test_two_supervisors_acting_on_the_same_view_cannot_both_succeed(live_server, seeded):
    helper, village = api(live_server, "helper"), api(live_server, "village")
    case_id = open_case(helper, submit_household(live_server, seeded))
    seen = etag_of(helper, case_id)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def supervise(client, action, opinion):
        barrier.wait()
        statuses.append(act(client, case_id, action, opinion, etag=seen).status_code)

    threads = [threading.Thread(target=supervise, args=(helper, "approve", "")),
               threading.Thread(target=supervise, args=(village, "reject", "不符合条件"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 412]
    assert len(events_of(helper, case_id)) == 2


# --- bulk actions ---------------------------------------------------------------------------


def test_a_bulk_action_checks_and_logs_each_case_on_its_own(live_server, seeded, db):
    helper, township = api(live_server, "helper"), api(live_server, "township")
    waiting = open_case(helper, submit_household(live_server, seeded, [SECOND_HEAD]))
    ready = open_case(helper, submit_household(live_server, seeded))
    assert act(helper, ready).status_code == 200  # now at verification, 2 team signatures
    elsewhere = bare_case(db, OTHER_VILLAGE, step="verification")
    asked = [elsewhere, ready, 2147483647, waiting]

    response = township.post(f"{township.base}/cases/bulk-actions", json={
        "case_ids": asked, "action": "approve", "opinion": "乡镇组织核实"}, timeout=30)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (1, 3)
    results = {r["case_id"]: r for r in body["results"]}
    assert [r["case_id"] for r in body["results"]] == asked
    assert results[ready]["ok"] and results[ready]["step"] == "village_review"
    assert results[waiting]["code"] == results[waiting]["rule"] == "STEP_ROLE"
    assert results[waiting]["message"]  # in Chinese, naming the step
    assert results[elsewhere]["code"] == results[2147483647]["code"] == "NOT_FOUND"
    assert step_of(helper, ready) == "village_review" and step_of(helper, waiting) == "application"
    assert events_of(helper, ready)[-1]["user"]["name"] == "测试township"
    assert [e["action"] for e in events_of(helper, waiting)] == ["open"]
    [entry] = audit(db, "case.bulk_action")
    assert entry.details["succeeded"] == [ready]
    assert entry.details["failed"] == {str(waiting): "STEP_ROLE", str(elsewhere): "NOT_FOUND",
                                       "2147483647": "NOT_FOUND"}
    assert len(audit(db, "case.approve")) == 2  # the helper's and the township's, not others


def test_bulk_actions_are_for_township_and_county_users_and_bounded(live_server, seeded):
    helper = api(live_server, "helper")
    county = api(live_server, "county")
    case_id = open_case(helper, submit_household(live_server, seeded))
    url = f"{helper.base}/cases/bulk-actions"

    by_helper = helper.post(url, json={"case_ids": [case_id], "action": "approve"}, timeout=10)
    by_village = api(live_server, "village").post(
        url, json={"case_ids": [case_id], "action": "approve"}, timeout=10)
    too_many = county.post(url, json={"case_ids": list(range(1, 202)), "action": "approve"},
                           timeout=10)
    repeated = county.post(url, json={"case_ids": [case_id, case_id], "action": "approve"},
                           timeout=10)
    empty = county.post(url, json={"case_ids": [], "action": "approve"}, timeout=10)
    most = county.post(url, json={"case_ids": list(range(1, 201)), "action": "return",
                                  "opinion": "退回"}, timeout=60)

    assert by_helper.status_code == by_village.status_code == 403
    assert by_helper.json()["code"] == "FORBIDDEN_ROLE"
    assert too_many.status_code == repeated.status_code == empty.status_code == 422
    assert "case_ids" in too_many.json()["errors"]["json"]
    assert most.status_code == 200 and most.json()["failed"] == 200  # county can't return 提交申请
    assert step_of(helper, case_id) == "application"


# --- objections -----------------------------------------------------------------------------


def test_an_objection_is_investigated_and_closed_before_the_notice_ends(live_server, seeded,
                                                                         db):
    """SPEC §6: objections are investigated by the 两委; the notice can't end while one is
    open."""
    helper, village = api(live_server, "helper"), api(live_server, "village")
    case_id = to_public_notice(live_server, seeded)
    raised = helper.post(f"{helper.base}/cases/{case_id}/objections",
                         json={"text": "邻居反映家中有车辆"}, timeout=10)
    assert raised.status_code == 201, raised.text
    objection = raised.json()
    case = db.get(Case, case_id)
    case.notice_started = today() - timedelta(days=8)  # the 7 full days have passed
    db.commit()
    close = f"{village.base}/cases/{case_id}/objections/{objection['id']}/close"
    elsewhere = bare_case(db, f"{VILLAGE}001")

    while_open = act(village, case_id)
    by_helper = helper.post(close, json={"result": "已核实"}, timeout=10)
    blank = village.post(close, json={"result": "   "}, timeout=10)
    wrong_case = village.post(
        f"{village.base}/cases/{elsewhere}/objections/{objection['id']}/close",
        json={"result": "已核实"}, timeout=10)
    closed = village.post(close, json={"result": "核实为借用车辆，异议不成立"}, timeout=10)
    again = village.post(close, json={"result": "再次办结"}, timeout=10)
    moved = act(village, case_id, opinion="公示期满，异议已核实",
                signed=signature_parts("identification", "public_notice"))

    assert objection["status"] == "open" and isinstance(objection["raised_by"], int)
    assert while_open.status_code == 409
    assert while_open.json()["code"] == "NOTICE_OBJECTION_OPEN"
    assert by_helper.status_code == 403 and by_helper.json()["code"] == "FORBIDDEN_ROLE"
    assert blank.status_code == 422 and wrong_case.status_code == 404
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert closed.json()["result"] == "核实为借用车辆，异议不成立"
    assert again.status_code == 409 and again.json()["code"] == "OBJECTION_CLOSED"
    assert moved.status_code == 200 and moved.json()["step"] == "township_review"
    [listed] = helper.get(f"{helper.base}/cases/{case_id}/objections", timeout=10).json()
    assert listed["status"] == "closed" and listed["text"] == "邻居反映家中有车辆"
    assert len(audit(db, "objection.raised")) == len(audit(db, "objection.closed")) == 1


def test_an_objection_can_only_be_raised_during_the_notice(live_server, seeded):
    helper, other = api(live_server, "helper"), api(live_server, "helper_other")
    case_id = open_case(helper, submit_household(live_server, seeded))
    url = f"{helper.base}/cases/{case_id}/objections"

    early = helper.post(url, json={"text": "邻居反映家中有车辆"}, timeout=10)
    blank = helper.post(url, json={"text": " "}, timeout=10)
    outside = other.post(url, json={"text": "邻居反映家中有车辆"}, timeout=10)

    assert early.status_code == 409 and early.json()["code"] == "NOT_IN_NOTICE"
    assert blank.status_code == 422 and outside.status_code == 404
    assert helper.get(url, timeout=10).json() == []


# --- monitoring contacts --------------------------------------------------------------------


def test_a_contact_is_assigned_then_replaced_with_a_reason_never_removed(live_server, seeded,
                                                                         db):
    """SPEC §6: 风险不消除，帮扶责任不脱钩 — replaced (with the reason), never removed."""
    helper, township, county = (api(live_server, n) for n in ("helper", "township", "county"))
    case_id = open_case(helper, submit_household(live_server, seeded))
    url = f"{township.base}/cases/{case_id}/contacts"
    first = {"name": "刘强", "unit": "洪市镇人民政府", "position": "副镇长",
             "phone": "13900001111"}

    by_helper = helper.post(url, json=first, timeout=10)
    assigned = township.post(url, json=first, timeout=10)
    no_reason = township.post(url, json={**first, "name": "陈敏"}, timeout=10)
    replaced = township.post(url, json={"name": "陈敏", "unit": "县农业农村局",
                                        "position": "干部", "reason": "原联系人调离"},
                             timeout=10)
    removed = township.delete(url, timeout=10)

    assert by_helper.status_code == 403 and by_helper.json()["code"] == "FORBIDDEN_ROLE"
    assert assigned.status_code == 201 and assigned.json()["current"] is True
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "REASON_REQUIRED"
    assert replaced.status_code == 201 and replaced.json()["current"] is True
    assert removed.status_code == 405
    masked = township.get(url, timeout=10).json()
    full = county.get(url, timeout=10).json()
    assert [(c["name"], c["current"]) for c in full] == [("刘强", False), ("陈敏", True)]
    assert full[0]["replaced_reason"] == "原联系人调离" and full[0]["replaced_at"]
    assert full[0]["phone"] == "13900001111" and masked[0]["phone"] == "139****1111"
    assert len(audit(db, "contact.assigned")) == len(audit(db, "contact.replaced")) == 1


def test_a_contact_needs_a_household_and_valid_fields(live_server, seeded, db):
    township = api(live_server, "township")
    bare = bare_case(db, f"{VILLAGE}001")
    case_id = open_case(api(live_server, "helper"), submit_household(live_server, seeded))
    contact = {"name": "刘强", "unit": "洪市镇人民政府", "position": "副镇长"}

    no_household = township.post(f"{township.base}/cases/{bare}/contacts", json=contact,
                                 timeout=10)
    bad_phone = township.post(f"{township.base}/cases/{case_id}/contacts",
                              json={**contact, "phone": "12345"}, timeout=10)
    blank_name = township.post(f"{township.base}/cases/{case_id}/contacts",
                               json={**contact, "name": " "}, timeout=10)

    assert no_household.status_code == 409 and no_household.json()["code"] == "CASE_NO_HOUSEHOLD"
    assert bad_phone.status_code == blank_name.status_code == 422
    assert township.get(f"{township.base}/cases/{case_id}/contacts", timeout=10).json() == []


# --- green channel: measures on a case ------------------------------------------------------


def test_measures_recorded_while_an_identification_is_open_are_green_channel(live_server,
                                                                             seeded, db):
    """SPEC §6 绿色通道: assistance may come before the identification ends, linked to it."""
    helper, village = api(live_server, "helper"), api(live_server, "village")
    household = submit_household(live_server, seeded)
    case_id = open_case(helper, household)
    submit_measures(live_server, seeded, household, today())
    submit_measures(live_server, seeded, household, today() - timedelta(days=400))  # before

    recorded = village.post(f"{village.base}/cases/{case_id}/measures", json={
        "values": {"a45_health": "01", "a45_effect": "落实先诊疗后付费"}}, timeout=10)

    assert recorded.status_code == 201, recorded.text
    measure = recorded.json()
    assert measure["green_channel"] is True and measure["case_id"] == case_id
    assert measure["source"] == "api" and measure["values"]["a45_health"] == "01"
    assert measure["measure_date"] == today().isoformat()
    listed = helper.get(f"{helper.base}/cases/{case_id}/measures", timeout=10).json()
    assert [(m["source"], m["green_channel"], m["marked_green_channel"]) for m in listed] == [
        ("form", True, False), ("api", True, True)]
    assert listed[0]["values"]["a39_industry"] == "01 03"
    [entry] = [e for e in audit(db, "measures.recorded") if e.user_id is not None]
    assert entry.details["case"] == case_id and entry.details["measures"] == ["a45_health"]


def test_measures_stay_linked_to_the_case_after_it_ends_and_only_those_of_its_time(
        live_server, seeded, db):
    helper = api(live_server, "helper")
    household = submit_household(live_server, seeded)
    case_id = open_case(helper, household)
    case = db.get(Case, case_id)
    case.opened_at = datetime.now(UTC) - timedelta(days=10)
    case.closed_at, case.status = datetime.now(UTC) - timedelta(days=5), "done"  # identified
    db.commit()
    elimination = open_case(api(live_server, "village"), household, "elimination", origin=None)
    submit_measures(live_server, seeded, household, today() - timedelta(days=7))  # during
    submit_measures(live_server, seeded, household, today())  # after it ended

    ended = helper.get(f"{helper.base}/cases/{case_id}/measures", timeout=10).json()
    later = helper.get(f"{helper.base}/cases/{elimination}/measures", timeout=10).json()

    assert [(m["measure_date"], m["green_channel"]) for m in ended] == [
        ((today() - timedelta(days=7)).isoformat(), True)]
    assert [(m["measure_date"], m["green_channel"]) for m in later] == [
        (today().isoformat(), False)]  # risk elimination: no green channel


def test_a_measure_is_recorded_only_on_an_open_case_by_village_or_township(live_server, seeded,
                                                                          db):
    helper, village, township, county = (
        api(live_server, n) for n in ("helper", "village", "township", "county"))
    case_id = open_case(helper, submit_household(live_server, seeded))
    url = f"{village.base}/cases/{case_id}/measures"
    good = {"values": {"a48_social_protection": "01"}}

    def post(client, body, case=case_id):
        return client.post(f"{client.base}/cases/{case}/measures", json=body, timeout=10)

    by_helper, by_county = post(helper, good), post(county, good)
    bad_code = post(village, {"values": {"a48_social_protection": "99"}})
    effect_only = post(village, {"values": {"a48_effect": "纳入低保"}})
    unknown = post(village, {"values": {"a28_wages": "100"}})
    before_case = post(village, {**good, "measure_date": "2021-06-01"})
    future = post(village, {**good, "measure_date": (today() + timedelta(days=2)).isoformat()})
    no_household = post(village, good, bare_case(db, f"{VILLAGE}001"))
    outside = post(township, good, bare_case(db, OTHER_VILLAGE))
    by_township = post(township, good)
    assert act(village, case_id, "reject", "不符合条件").status_code == 200
    closed = post(village, good)

    assert by_helper.status_code == by_county.status_code == 403
    assert bad_code.status_code == 422 and bad_code.json()["code"] == "MEASURE_INVALID"
    assert bad_code.json()["details"]["fields"] == "A48"
    assert bad_code.json()["details"]["codes"] == "FIELD_INVALID"
    assert effect_only.status_code == 422 and effect_only.json()["code"] == "MEASURES_EMPTY"
    assert unknown.status_code == 422 and "values" in unknown.json()["errors"]["json"]
    assert before_case.status_code == future.status_code == 422
    assert before_case.json()["code"] == future.json()["code"] == "MEASURE_DATE_OUTSIDE_CASE"
    assert no_household.status_code == 409 and no_household.json()["code"] == "CASE_NO_HOUSEHOLD"
    assert outside.status_code == 404
    assert by_township.status_code == 201
    assert closed.status_code == 409 and closed.json()["code"] == "CASE_CLOSED"
    listed = village.get(url, timeout=10).json()
    assert [m["recorded_by"] is not None for m in listed] == [True]


# --- the case list --------------------------------------------------------------------------


def test_the_case_list_is_filtered_and_sorted(live_server, seeded, db):
    helper, county = api(live_server, "helper"), api(live_server, "county")
    first = submit_household(live_server, seeded)
    second = submit_household(live_server, seeded, [THIRD_HEAD])
    a = open_case(helper, first, origin="02")
    b = open_case(helper, second, origin="01")
    identified = db.get(Case, a)  # approved: the household is a monitoring object
    identified.status, identified.closed_at = "done", datetime.now(UTC) - timedelta(minutes=1)
    db.commit()
    c = open_case(api(live_server, "village"), first, "elimination", origin=None)
    far = bare_case(db, OTHER_VILLAGE)
    near = bare_case(db, NEIGHBOUR_VILLAGE)

    def ids(client, **params):
        response = client.get(f"{client.base}/cases", params=params, timeout=10)
        assert response.status_code == 200, response.text
        return [case["id"] for case in response.json()]

    assert ids(county, household_id=first) == [a, c]
    assert ids(county, origin="01") == [b]
    assert ids(county, area_code=VILLAGE) == [a, b, c]
    assert ids(county, area_code="430421107") == [a, b, c, near]
    assert ids(county, area_code="430421201") == [far]
    assert ids(helper, area_code="430421") == [a, b, c]  # never beyond the user's own area
    assert ids(county, sort="-id") == [near, far, c, b, a]
    assert ids(county, sort="area_code,-id")[-2:] == [near, far]
    for bad in ({"origin": "99"}, {"sort": "name"}, {"household_id": "x"}, {"area_code": "43"}):
        assert county.get(f"{county.base}/cases", params=bad, timeout=10).status_code == 422


def test_the_openapi_document_describes_the_case_api(live_server, seeded):
    document = requests.get(f"{live_server}/api/openapi.json", timeout=10).json()

    validate(document)
    paths = document["paths"]
    assert {"/api/v1/cases/{case_id}/events", "/api/v1/cases/{case_id}/signatures",
            "/api/v1/cases/{case_id}/signatures/{key}", "/api/v1/cases/bulk-actions",
            "/api/v1/cases/{case_id}/objections", "/api/v1/cases/{case_id}/contacts",
            "/api/v1/cases/{case_id}/objections/{objection_id}/close",
            "/api/v1/cases/{case_id}/measures"} <= set(paths)
    action = paths["/api/v1/cases/{case_id}/actions"]["post"]
    assert set(action["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"412", "428", "422"} <= set(action["responses"])
    assert "ETag" in paths["/api/v1/cases/{case_id}"]["get"]["responses"]["200"]["headers"]


# --- issue 11: signatures by signer, the notice restarted, who opens which case --------------


def at_township_review(live_server, seeded, db) -> int:
    """A case run through the API to the township review (the notice's days moved back)."""
    case_id = to_public_notice(live_server, seeded)
    db.rollback()
    db.get(Case, case_id).notice_started = today() - timedelta(days=8)
    db.commit()
    moved = act(api(live_server, "village"), case_id,
                signed=signature_parts("identification", "public_notice"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["step"] == "township_review"
    return case_id


def test_township_review_needs_the_party_secretarys_and_the_township_heads_signatures(
        live_server, seeded, db):
    """SPEC §6 / 附件3: the township party secretary and the township head sign; an upload
    that names no signer, or only one of them, is refused with the missing ones named."""
    township = api(live_server, "township")
    case_id = at_township_review(live_server, seeded, db)
    secretary, head = signature_parts("identification", "township_review")

    unsigned = act(township, case_id)
    anonymous = act(township, case_id, files=[secretary[1], head[1]])
    one = act(township, case_id, signed=[secretary])
    unknown = act(township, case_id, signed=[secretary, ("signature_mayor", head[1])])
    both = act(township, case_id, "approve", "审核通过", signed=[secretary, head])

    for refused in (unsigned, anonymous, one):
        assert refused.status_code == 409 and refused.json()["code"] == "SIGNATURE_MISSING"
    assert unsigned.json()["details"]["missing"] == "township_secretary township_head"
    assert anonymous.json()["details"]["missing"] == "township_secretary township_head"
    assert one.json()["details"]["missing"] == "township_head"
    assert unknown.status_code == 400 and unknown.json()["code"] == "SIGNATURE_PART_UNKNOWN"
    assert unknown.json()["details"]["part"] == "signature_mayor"
    assert both.status_code == 200, both.text
    assert both.json()["step"] == "county_approval"
    event = events_of(township, case_id)[-1]
    assert [(s["key"], s["signer"]) for s in event["signatures"]] == [
        (sha256(signature_image("township_secretary")), "township_secretary"),
        (sha256(signature_image("township_head")), "township_head")]
    listed = township.get(f"{township.base}/cases/{case_id}/signatures", timeout=10).json()
    assert {"village_secretary", "township_secretary", "township_head"} <= {
        s["signer"] for s in listed if s["source"] == "event"}


def test_the_application_is_approved_only_with_the_applicants_signature(live_server, seeded):
    """SPEC §6: the household signs 附件1 before the home verification: without it on the
    phone, the application step is approved only with ``signature_applicant``."""
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded, applicant_signs=False))
    part = signature_parts("identification", "application")

    unsigned = act(helper, case_id, opinion="户主申请")
    signed = act(helper, case_id, opinion="户主申请并签字", signed=part)

    assert unsigned.status_code == 409
    assert unsigned.json()["code"] == "SIGNATURE_MISSING"
    assert unsigned.json()["details"]["missing"] == "applicant"
    assert signed.status_code == 200 and signed.json()["step"] == "verification"
    assert [s["signer"] for s in events_of(helper, case_id)[-1]["signatures"]] == ["applicant"]


def test_a_return_into_the_public_notice_restarts_it_and_the_case_shows_its_end(
        live_server, seeded, db):
    """SPEC §6: 7 full days from the start of the notice. A case the township returns into the
    notice is posted again that day; GET /cases/<id> shows the first day it can end, and the
    notice cannot end before it (the old code cleared the start: the end moved every day)."""
    township, village = api(live_server, "township"), api(live_server, "village")
    case_id = at_township_review(live_server, seeded, db)

    returned = act(township, case_id, "return", "公示照片不清楚，重新公示")
    shown = village.get(f"{village.base}/cases/{case_id}", timeout=10).json()
    early = act(village, case_id, signed=signature_parts("identification", "public_notice"))

    assert returned.status_code == 200, returned.text
    assert shown["step"] == "public_notice"
    assert shown["notice_started"] == today().isoformat()
    assert shown["notice_can_end_on"] == (today() + timedelta(days=8)).isoformat()
    assert early.status_code == 409
    assert early.json()["code"] == "NOTICE_NOT_FINISHED"
    db.rollback()
    db.get(Case, case_id).notice_started = today() - timedelta(days=8)  # its days have passed
    db.commit()
    ended = act(village, case_id, signed=signature_parts("identification", "public_notice"))
    assert ended.status_code == 200 and ended.json()["notice_can_end_on"] is None


def test_elimination_is_opened_by_the_village_for_a_monitoring_object_only(live_server, seeded,
                                                                           db):
    """SPEC §6: the village proposes names of monitoring objects; one case at a time."""
    helper, village = api(live_server, "helper"), api(live_server, "village")
    household = submit_household(live_server, seeded)

    def propose(client):
        return client.post(f"{client.base}/cases", json={
            "procedure": "elimination", "household_id": household}, timeout=10)

    never = propose(village)
    db.rollback()
    monitoring_object(db, household)
    by_helper = propose(helper)
    opened = propose(village)
    twice = propose(village)

    assert never.status_code == 409 and never.json()["code"] == "ELIMINATION_NOT_MONITORED"
    assert by_helper.status_code == 403 and by_helper.json()["code"] == "ELIMINATION_PROPOSER"
    assert opened.status_code == 201 and opened.json()["step"] == "proposal"
    assert twice.status_code == 409 and twice.json()["code"] == "CASE_ALREADY_OPEN"


def test_a_monitoring_object_is_not_identified_again(live_server, seeded, db):
    """SPEC §6: an identified household (not since eliminated) is not identified again."""
    helper = api(live_server, "helper")
    household = submit_household(live_server, seeded)
    db.rollback()
    monitoring_object(db, household)

    again = helper.post(f"{helper.base}/cases", json={
        "procedure": "identification", "household_id": household, "origin": "02"}, timeout=10)

    assert again.status_code == 409 and again.json()["code"] == "HOUSEHOLD_ALREADY_MONITORED"


def test_social_protection_recorded_on_the_case_blocks_the_elimination_of_a_household_without_labour(  # noqa: E501
        live_server, seeded, db):
    """SPEC §6 暂不: a household without labour capacity, once a social-protection measure
    (A48) is in place, is not marked 风险消除 — also when the measure is recorded on the case
    after the assessment: the county's approval is checked on the registry as it is then."""
    from tests.integration.test_registry import elimination_values

    village, county = api(live_server, "village"), api(live_server, "county")
    no_labour = [{**HEAD, "a14_labour_skill": "03"}, {**SPOUSE, "a14_labour_skill": "03"}]
    household = submit_household(live_server, seeded, no_labour)
    db.rollback()
    monitoring_object(db, household)
    xml = form_instance("elimination", seeded.form_versions["elimination"],
                        elimination_values(household))
    sent = CollectClient(live_server, seeded.tokens["helper"]).submit(xml)
    assert sent.status_code == 201, sent.text
    case_id = open_case(village, household, "elimination", origin=None)
    db.get(Case, case_id).step = "county_approval"  # the earlier steps: tests above
    db.commit()

    measure = village.post(f"{village.base}/cases/{case_id}/measures", json={
        "values": {"a48_social_protection": "01", "a48_effect": "纳入农村低保"}}, timeout=10)
    refused = act(county, case_id, opinion="审定")

    assert measure.status_code == 201, measure.text
    assert refused.status_code == 409
    assert refused.json()["code"] == "ELIMINATION_NOT_FOR_NOW"
    assert step_of(county, case_id) == "county_approval"
