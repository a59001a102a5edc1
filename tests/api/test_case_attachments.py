"""Documents that go with a case's step, over real HTTP (issue 6: each step records "the
signatures … the attachments"): the public-notice photo (公示照片), the village review minutes
(评议会议记录), a scanned 附件3 with the county seal. Images or PDFs only; one bad file refuses
the whole action and stores nothing; the download is area-checked and audited. SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import func, select

from server.clock import today
from server.domain.roles import Role
from server.pipeline.models import Case
from server.submissions.models import MediaObject
from tests.api.test_api import api
from tests.api.test_cases_api import (
    audit,
    bare_case,
    etag_of,
    events_of,
    open_case,
    sha256,
    step_of,
    submit_household,
    to_public_notice,
)
from tests.support.cases import signature_parts
from tests.support.collect import jpeg_bytes, png_bytes
from tests.support.rest import OTHER_COUNTY, add_user, user_id
from tests.support.seed import VILLAGE

MINUTES = (b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
           + "% 洪罗庙社区 民主评议会议记录\n".encode() + b"trailer <</Root 1 0 R>>\n%%EOF\n")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(240) + b"PE\x00\x00"


def act_with(client, case_id: int, attachments=(), signatures=(), action="approve",
             opinion="", etag=None, signed=()) -> requests.Response:
    """POST an action as multipart/form-data: ``attachments`` and ``signatures`` (no signer
    named) as [(file name, bytes, content type)]; ``signed``: ``signature_<signer>`` parts."""
    files = ([("attachment", f) for f in attachments]
             + [("signature", f) for f in signatures] + list(signed))
    return client.post(f"{client.base}/cases/{case_id}/actions",
                       data={"action": action, "opinion": opinion},
                       headers={"If-Match": etag or etag_of(client, case_id)},
                       files=files, timeout=30)


def stored(app, db) -> tuple[int, int]:
    """What the media store holds: rows of media_objects, files on disk."""
    db.rollback()  # a fresh snapshot
    rows = db.scalar(select(func.count()).select_from(MediaObject))
    root = app.extensions["fangpin.media"].root
    files = sum(1 for path in root.rglob("*")
                if path.is_file() and path.relative_to(root).parts[0] != "tmp")
    return rows, files


def notice_ended(live_server, seeded, db) -> int:
    """A case at its public notice, whose 7 full days have passed."""
    case_id = to_public_notice(live_server, seeded)
    db.rollback()
    case = db.get(Case, case_id)
    case.notice_started = today() - timedelta(days=8)
    db.commit()
    return case_id


def test_the_notice_photo_and_the_review_minutes_go_with_the_approval(live_server, seeded,
                                                                        db):
    """SPEC §6 村评议公示: the notice photo and the minutes are on the step's event, listed
    with name, type and size, and downloaded under their own names."""
    village, township = api(live_server, "village"), api(live_server, "township")
    case_id = notice_ended(live_server, seeded, db)
    photo = jpeg_bytes((640, 480))

    response = act_with(village, case_id, opinion="公示期满无异议", attachments=[
        ("公示照片.jpg", photo, "application/octet-stream"),
        ("评议会议记录.pdf", MINUTES, "application/pdf")],
        signed=signature_parts("identification", "public_notice"))

    assert response.status_code == 200, response.text
    assert response.json()["step"] == "township_review"
    event = events_of(township, case_id)[-1]
    assert event["opinion"] == "公示期满无异议"
    assert [s["signer"] for s in event["signatures"]] == ["village_secretary"]
    assert [{k: v for k, v in a.items() if k != "url"} for a in event["attachments"]] == [
        {"key": sha256(photo), "name": "公示照片.jpg", "content_type": "image/jpeg",
         "size": len(photo)},
        {"key": sha256(MINUTES), "name": "评议会议记录.pdf", "content_type": "application/pdf",
         "size": len(MINUTES)}]
    assert all(e["attachments"] == [] for e in events_of(township, case_id)[:-1])
    [*_, entry] = audit(db, "case.approve")
    assert entry.details["attachments"] == [
        {"key": sha256(photo), "name": "公示照片.jpg"},
        {"key": sha256(MINUTES), "name": "评议会议记录.pdf"}]

    for attachment, content in zip(event["attachments"], (photo, MINUTES), strict=True):
        download = township.get(f"{live_server}{attachment['url']}", timeout=10)
        assert download.status_code == 200 and download.content == content
        assert download.headers["Content-Type"] == attachment["content_type"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment")
        assert f"filename*=UTF-8''{quote(attachment['name'], safe='')}" in disposition

    downloads = audit(db, "case.attachment_downloaded")
    assert [(e.object_id, e.user_id, e.details["name"], e.details["media_sha256"])
            for e in downloads] == [
        (str(case_id), user_id(db, "township"), "公示照片.jpg", sha256(photo)),
        (str(case_id), user_id(db, "township"), "评议会议记录.pdf", sha256(MINUTES))]


@pytest.mark.parametrize("bad", [
    ("评议会议记录.pdf", EXE, "application/pdf"),  # an .exe renamed .pdf
    ("公示照片.jpg", "这不是照片".encode(), "image/jpeg"),  # not an image, not a PDF
    ("附件3.docx", b"PK\x03\x04" + bytes(100), "application/octet-stream"),
], ids=["fake-pdf", "fake-photo", "word"])
def test_a_file_that_is_neither_image_nor_pdf_refuses_the_action_and_stores_nothing(
        live_server, seeded, app, db, bad):
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded))
    before, tag = stored(app, db), etag_of(helper, case_id)
    good = png_bytes((333, 77))

    response = act_with(helper, case_id, opinion="户主已签字申请", signatures=[
        ("户主.png", png_bytes((334, 77)), "image/png")], attachments=[
        ("申请书.png", good, "image/png"), bad])

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ATTACHMENT_NOT_ALLOWED" and body["details"]["name"] == bad[0]
    assert body["details"]["reason"] == (
        "PDF_HEADER_MISSING" if bad[0].endswith(".pdf") else "IMAGE_INVALID")
    assert stored(app, db) == before
    assert not app.extensions["fangpin.media"].exists(sha256(good))
    assert etag_of(helper, case_id) == tag and step_of(helper, case_id) == "application"
    assert [e["action"] for e in events_of(helper, case_id)] == ["open"]
    assert audit(db, "case.approve") == []


def test_attachments_are_bounded_and_sent_as_attachment_parts(live_server, seeded, app, db):
    """At most 10 a step; each within the request's size limit; a file sent twice is kept
    once, under its first name."""
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded))
    url = f"{helper.base}/cases/{case_id}/actions"
    before = stored(app, db)

    eleven = act_with(helper, case_id, attachments=[
        (f"{n}.png", png_bytes((60 + n, 20)), "image/png") for n in range(11)])
    huge = act_with(helper, case_id, attachments=[
        ("扫描件.pdf", MINUTES + bytes(3 * 1024 * 1024), "application/pdf")])
    wrong_field = helper.post(url, data={"action": "approve"}, timeout=10,
                              headers={"If-Match": etag_of(helper, case_id)},
                              files=[("attachments", ("a.pdf", MINUTES, "application/pdf"))])

    assert eleven.status_code == 422 and eleven.json()["code"] == "ATTACHMENTS_TOO_MANY"
    assert huge.status_code == 413 and huge.json()["code"] == "SUBMISSION_TOO_LARGE"
    assert wrong_field.status_code == 400
    assert wrong_field.json()["code"] == "SIGNATURE_PART_UNKNOWN"
    assert wrong_field.json()["details"]["part"] == "attachments"
    assert stored(app, db) == before and step_of(helper, case_id) == "application"

    twice = act_with(helper, case_id, attachments=[
        ("申请书.pdf", MINUTES, "application/pdf"), ("副本.pdf", MINUTES, "application/pdf")])

    assert twice.status_code == 200, twice.text
    assert [a["name"] for a in events_of(helper, case_id)[-1]["attachments"]] == ["申请书.pdf"]
    assert stored(app, db) == (before[0] + 1, before[1] + 1)


def test_a_body_sent_without_its_length_is_cut_at_the_same_limit(live_server, seeded, app,
                                                                  db, app_config):
    """The one request-size check: a multipart action streamed without a Content-Length
    (chunked) stops being read at the request limit and answers with the catalogue's 413, as
    a body that declares its size does; nothing is stored, the case does not move."""
    helper = api(live_server, "helper")
    case_id = open_case(helper, submit_household(live_server, seeded))
    before = stored(app, db)
    boundary = "fangpin-test-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="action"\r\n\r\napprove\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachment"; '
            f'filename="scan.pdf"\r\nContent-Type: application/pdf\r\n\r\n').encode()

    def body():  # a generator: requests sends it chunked, without a Content-Length
        yield head + MINUTES
        for _ in range(app_config["MAX_SUBMISSION_BYTES"] // 65536 + 2):
            yield bytes(65536)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = helper.post(f"{helper.base}/cases/{case_id}/actions", data=body(), timeout=30,
                           headers={"If-Match": etag_of(helper, case_id),
                                    "Content-Type": f"multipart/form-data; boundary={boundary}"})

    assert response.status_code == 413 and response.json()["code"] == "SUBMISSION_TOO_LARGE"
    assert stored(app, db) == before and step_of(helper, case_id) == "application"


def test_only_the_cases_own_attachments_are_served_to_users_of_its_area(live_server, seeded,
                                                                         db):
    helper, county = api(live_server, "helper"), api(live_server, "county")
    case_id = open_case(helper, submit_household(live_server, seeded))
    signature = png_bytes((335, 77))
    assert act_with(helper, case_id, attachments=[("申请书.pdf", MINUTES, "application/pdf")],
                    signatures=[("户主.png", signature, "image/png")]).status_code == 200
    add_user(db, "county_other", Role.COUNTY, OTHER_COUNTY)
    elsewhere = bare_case(db, f"{VILLAGE}001")
    base = f"{helper.base}/cases"
    url = f"{base}/{case_id}/attachments/{sha256(MINUTES)}"

    def status(client, address=url):
        return client.get(address, timeout=10).status_code

    assert status(helper) == status(county) == 200
    assert status(api(live_server, "county_other")) == 404  # another county
    assert status(api(live_server, "helper_other")) == 404  # another township
    assert status(api(live_server, "county_other"), f"{base}/{case_id}/events") == 404
    assert status(helper, f"{base}/{elsewhere}/attachments/{sha256(MINUTES)}") == 404
    assert status(helper, f"{base}/{case_id}/attachments/{sha256(signature)}") == 404
    assert status(helper, f"{base}/{case_id}/attachments/{'0' * 64}") == 404
    assert status(helper, f"{base}/{case_id}/attachments/{sha256(MINUTES).upper()}") == 404
    assert status(api(live_server, None)) == 401
    assert [e.user_id for e in audit(db, "case.attachment_downloaded")] == [
        user_id(db, "helper"), user_id(db, "county")]  # refused downloads leave no entry


def test_the_openapi_document_describes_step_attachments(live_server, seeded):
    document = requests.get(f"{live_server}/api/openapi.json", timeout=10).json()

    download = document["paths"]["/api/v1/cases/{case_id}/attachments/{key}"]["get"]
    action = document["paths"]["/api/v1/cases/{case_id}/actions"]["post"]
    form = action["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in form:
        form = document["components"]["schemas"][form["$ref"].rsplit("/", 1)[-1]]
    assert {"200", "401", "404"} <= set(download["responses"])
    assert {"signature", "attachment", "signature_applicant", "signature_household_head",
            "signature_village_secretary", "signature_township_secretary",
            "signature_township_head"} <= set(form["properties"])
