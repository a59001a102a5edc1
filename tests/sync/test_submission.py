"""OpenRosa Form Submission API: what is stored, what is refused, and that nothing is lost."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry
from server.submissions.models import RejectedUpload, Submission, SubmissionAttachment
from tests.support.collect import (
    CollectClient,
    household_instance,
    jpeg_bytes,
    png_bytes,
    response_message,
)
from tests.support.rest import Api as RestApi
from tests.support.seed import PASSWORD


@pytest.fixture
def client(live_server, seeded) -> CollectClient:
    return CollectClient(live_server, seeded.tokens["helper"])


@pytest.fixture
def version(seeded) -> str:
    return seeded.form_versions["household"]


def _count(db: Session, model) -> int:
    db.rollback()  # see what other connections committed
    return db.scalar(select(func.count()).select_from(model))


def _media(app, key: str) -> bytes:
    with app.extensions["fangpin.media"].open(key) as stream:
        return stream.read()


def test_head_submission_advertises_the_size_limit(client, app_config):
    """OpenRosa: HEAD /submission answers 204 with X-OpenRosa-Accept-Content-Length."""
    response = client.head_submission()

    assert response.status_code == 204
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) == (
        app_config["MAX_SUBMISSION_BYTES"]
    )


def test_a_submission_with_photo_and_signature_is_stored(client, version, db, app):
    """Issue 3: the submission, its XML and its attachments are stored, media by SHA-256."""
    xml = household_instance(version, "uuid:0001")
    photo, signature = jpeg_bytes(), png_bytes()

    response = client.submit(xml, {"house.jpg": photo, "sig.png": signature})

    assert response.status_code == 201, response.text
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    submission = db.scalar(select(Submission).where(Submission.instance_id == "uuid:0001"))
    # the bare instance lacks most answers: taken in as invalid, and the phone is told so
    assert response.headers["X-Submission-State"] == submission.state == "invalid"
    assert submission.xml.encode() == xml
    assert submission.complete
    assert submission.device_id == client.device_id
    stored = {a.name: a for a in submission.attachments}
    assert stored["house.jpg"].media_sha256 == hashlib.sha256(photo).hexdigest()
    assert stored["house.jpg"].field_path == "/data/photo_house"
    assert stored["sig.png"].media_sha256 == hashlib.sha256(signature).hexdigest()
    assert _media(app, stored["house.jpg"].media_sha256) == photo
    assert _media(app, stored["sig.png"].media_sha256) == signature
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "submission.received"))
    assert entry.object_id == str(submission.id) and entry.details["complete"] is True


def test_the_same_submission_sent_twice_is_stored_once(client, version, db):
    """SPEC §5: the same submission sent twice (same instanceID) is stored once."""
    xml = household_instance(version, "uuid:0002")
    files = {"house.jpg": jpeg_bytes(), "sig.png": png_bytes()}

    first = client.submit(xml, files)
    second = client.submit(xml, files)

    assert (first.status_code, second.status_code) == (201, 201)
    assert _count(db, Submission) == 1
    assert _count(db, SubmissionAttachment) == 2


def test_same_instance_id_with_other_content_is_refused_and_the_first_kept(client, version, db,
                                                                           app):
    """DESIGN: same instanceID + different XML → 409, the first kept, the second recoverable."""
    first_xml = household_instance(version, "uuid:0003", head="张三")
    other_xml = household_instance(version, "uuid:0003", head="王五")
    files = {"house.jpg": jpeg_bytes(), "sig.png": png_bytes()}
    assert client.submit(first_xml, files).status_code == 201

    response = client.submit(other_xml, files)

    assert response.status_code == 409
    assert response.headers["X-Error-Code"] == "SUBMISSION_DUPLICATE_CONFLICT"
    assert "uuid:0003" in response_message(response)
    db.rollback()
    assert db.scalar(select(Submission.xml)).encode() == first_xml
    rejected = db.scalar(select(RejectedUpload))
    assert rejected.error_code == "SUBMISSION_DUPLICATE_CONFLICT"
    assert rejected.instance_id == "uuid:0003"
    assert rejected.body == other_xml and rejected.size == len(other_xml)


def test_a_split_submission_ends_with_all_its_attachments(client, version, db):
    """Issue 3: a submission split over several POSTs (*isIncomplete*) gets every file."""
    xml = household_instance(version, "uuid:0004")

    first = client.submit(xml, {"house.jpg": jpeg_bytes()}, incomplete=True)
    db.rollback()
    partial = db.scalar(select(Submission))
    assert first.status_code == 201 and not partial.complete
    second = client.submit(xml, {"sig.png": png_bytes()})

    assert second.status_code == 201
    db.rollback()
    submission = db.scalar(select(Submission))
    assert submission.complete
    assert all(a.media_sha256 for a in submission.attachments)
    assert _count(db, Submission) == 1


def test_xml_without_its_files_is_kept_incomplete(client, version, db):
    response = client.submit(household_instance(version, "uuid:0005"))

    assert response.status_code == 201
    submission = db.scalar(select(Submission))
    assert not submission.complete
    assert {a.name for a in submission.attachments} == {"house.jpg", "sig.png"}
    assert all(a.media_sha256 is None for a in submission.attachments)


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["X-Error-Code"] == code
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response_message(response)  # Collect shows it to the helper


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<data id="household" version="v"><x>&lol3;</x><meta><instanceID>uuid:x</instanceID></meta></data>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<data id="household" version="v"><x>&xxe;</x><meta><instanceID>uuid:y</instanceID></meta></data>"""


@pytest.mark.parametrize("xml,code", [
    (b"<data id='household'><unclosed></data>", "XML_MALFORMED"),
    (b"\xff\xfe not xml at all", "XML_MALFORMED"),
    (BILLION_LAUGHS, "XML_FORBIDDEN"),
    (EXTERNAL_ENTITY, "XML_FORBIDDEN"),
    (b"<data version='1'><meta><instanceID>uuid:z</instanceID></meta></data>", "XML_NO_FORM_ID"),
    (b"<data id='household' version='1'><meta/></data>", "XML_NO_INSTANCE_ID"),
])
def test_bad_xml_is_refused_with_400_and_kept(client, db, app, xml, code):
    """Issue 3 bad input: malformed or hostile XML → 400 with a message; kept for recovery."""
    response = client.submit(xml)

    _refused(response, 400, code)
    assert _count(db, Submission) == 0
    rejected = db.scalar(select(RejectedUpload))
    assert rejected.error_code == code
    assert rejected.body == xml


def test_xml_not_in_utf8_is_refused_with_400_and_kept(client, version, db, app):
    """A known form in another encoding (GB18030, declared): the XML is stored as UTF-8 text,
    so it is refused with a message instead of failing after the parse (a 500 before)."""
    xml = (household_instance(version, "uuid:gb18030").decode()
           .replace("encoding='UTF-8'", "encoding='GB18030'").encode("gb18030"))

    response = client.submit(xml)

    _refused(response, 400, "XML_MALFORMED")  # its reason, XML_NOT_UTF8: tests/unit
    assert response_message(response)
    assert _count(db, Submission) == 0
    assert db.scalar(select(RejectedUpload.body)) == xml


def test_an_unknown_form_is_404(client, db):
    xml = household_instance("v1").replace(b'id="household"', b'id="no_such_form"')

    _refused(client.submit(xml), 404, "FORM_NOT_FOUND")
    assert _count(db, Submission) == 0


def test_an_unknown_form_version_is_404_and_kept(client, db):
    response = client.submit(household_instance("0000dead0000", "uuid:0006"))

    _refused(response, 404, "FORM_VERSION_UNKNOWN")
    assert "0000dead0000" in response_message(response)
    assert db.scalar(select(RejectedUpload.instance_id)) == "uuid:0006"


def test_a_file_the_instance_does_not_name_is_kept_unreferenced_never_refused(
        client, version, db, app, live_server):
    """SPEC §5 (nothing a helper sent is lost): Collect uploads every file of the instance
    folder (InstanceServerUploader.getFilesInParentDirectory), so a photo whose question turned
    non-relevant, or a leftover temporary file, comes with every try. The submission is
    accepted; such a part is kept in the media store and listed on the submission as not
    referenced, whatever its type (no image check), and never counts as a form value."""
    xml = household_instance(version, "uuid:0007")
    stale_photo, leftover = jpeg_bytes((32, 32)), b"not an image at all"
    files = {"house.jpg": jpeg_bytes(), "sig.png": png_bytes(),
             "1712345678901.jpg": stale_photo, "tmp.txt": leftover}

    response = client.submit(xml, files)
    again = client.submit(xml, files)  # Collect's retry: the same parts, stored once

    assert response.status_code == 201, response.text
    assert again.status_code == 201, again.text
    submission = db.scalar(select(Submission).where(Submission.instance_id == "uuid:0007"))
    assert submission.complete
    detail = RestApi(live_server, "county").get(f"/submissions/{submission.id}").json()
    files_by_name = {a["name"]: a for a in detail["attachments"]}
    assert set(files_by_name) == {"house.jpg", "sig.png", "1712345678901.jpg", "tmp.txt"}
    assert files_by_name["house.jpg"]["referenced"] is True
    assert files_by_name["house.jpg"]["field_path"] == "/data/photo_house"
    for name, content in (("1712345678901.jpg", stale_photo), ("tmp.txt", leftover)):
        assert files_by_name[name]["referenced"] is False
        assert files_by_name[name]["field_path"] is None
        assert files_by_name[name]["received"] is True
        assert files_by_name[name]["size"] == len(content)
        stored = db.scalar(select(SubmissionAttachment.media_sha256).where(
            SubmissionAttachment.submission_id == submission.id,
            SubmissionAttachment.name == name))
        assert _media(app, stored) == content
    assert _count(db, RejectedUpload) == 0


def test_an_unreferenced_file_of_a_later_part_is_added(client, version, db, live_server):
    """SPEC §5: a split submission's later part may bring files the XML does not name; they are
    added to the stored submission as unreferenced, and the repeat is still stored once."""
    xml = household_instance(version, "uuid:0007b")
    assert client.submit(xml, {"house.jpg": jpeg_bytes()}).status_code == 201

    response = client.submit(xml, {"sig.png": png_bytes(), "old.jpg": b"\xff\xd8 broken"})

    assert response.status_code == 201, response.text
    assert _count(db, Submission) == 1
    submission = db.scalar(select(Submission).where(Submission.instance_id == "uuid:0007b"))
    detail = RestApi(live_server, "county").get(f"/submissions/{submission.id}").json()
    assert {a["name"]: a["referenced"] for a in detail["attachments"]} == {
        "house.jpg": True, "sig.png": True, "old.jpg": False}
    assert detail["complete"] is True


@pytest.mark.parametrize("content", [b"%PDF-1.4 not an image", b"<html>hi</html>",
                                     jpeg_bytes()[:200]])
def test_a_photo_that_is_not_an_image_is_refused(client, version, db, content):
    """Issue 3: Pillow checks that a photo or signature is really an image."""
    xml = household_instance(version, "uuid:0008")

    response = client.submit(xml, {"house.jpg": content, "sig.png": png_bytes()})

    _refused(response, 400, "ATTACHMENT_NOT_IMAGE")
    assert "house.jpg" in response_message(response)
    assert _count(db, Submission) == 0


def test_a_refused_photo_does_not_touch_what_was_stored_before(client, version, db):
    """Nothing already stored is changed by a refused POST."""
    xml = household_instance(version, "uuid:0009")
    assert client.submit(xml, {"sig.png": png_bytes()}).status_code == 201

    response = client.submit(xml, {"house.jpg": b"not an image"})

    assert response.status_code == 400
    db.rollback()
    attachments = {a.name: a.media_sha256 for a in db.scalars(select(SubmissionAttachment))}
    assert attachments["house.jpg"] is None and attachments["sig.png"]


def test_a_body_over_the_limit_is_413_and_nothing_stored(client, version, db, app_config):
    big = b"\0" * (app_config["MAX_SUBMISSION_BYTES"] + 1)

    response = client.submit(household_instance(version, "uuid:0010"), {"house.jpg": big})

    _refused(response, 413, "SUBMISSION_TOO_LARGE")
    assert _count(db, Submission) == 0


def test_a_post_without_the_xml_part_is_400(client):
    _refused(client.submit(None, {"house.jpg": jpeg_bytes()}), 400, "SUBMISSION_NO_XML")


def test_a_post_that_is_not_multipart_is_400(client):
    response = client.http.post(client.url("/submission"), data=b"<data/>",
                                headers={"Content-Type": "text/xml"}, timeout=10)

    _refused(response, 400, "SUBMISSION_NOT_MULTIPART")


def test_a_role_that_does_not_collect_cannot_submit(live_server, version, db):
    client = CollectClient(live_server, auth=("county", PASSWORD))

    _refused(client.submit(household_instance(version)), 403, "FORM_NOT_ALLOWED")
    assert _count(db, Submission) == 0


def test_basic_auth_submission_works_too(live_server, version, db):
    client = CollectClient(live_server, auth=("helper", PASSWORD))

    response = client.submit(household_instance(version, "uuid:0011"),
                             {"house.jpg": jpeg_bytes(), "sig.png": png_bytes()})

    assert response.status_code == 201
    assert _count(db, Submission) == 1


@pytest.mark.concurrent
def test_the_same_submission_racing_from_eight_connections_is_stored_once(client, version, db):
    """SPEC §5 / DESIGN: a race on one instanceID ends in one row, every sender told success."""
    from concurrent.futures import ThreadPoolExecutor

    xml = household_instance(version, "uuid:race")
    files = {"house.jpg": jpeg_bytes(), "sig.png": png_bytes()}

    def send(_):
        return CollectClient(client.base_url, client.token).submit(xml, files).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(8)))

    assert statuses == [201] * 8
    assert _count(db, Submission) == 1
    assert _count(db, SubmissionAttachment) == 2


def test_a_connection_the_database_dropped_never_goes_back_to_the_pool(
        client, version, db, backend, request, database):
    """DESIGN (one unit of work): after PostgreSQL drops its connections (a restart), the
    submission that meets a dead pooled connection fails alone; the next one is stored on a
    fresh connection, with no restart of the server (the one-statement insert's raw connection
    included)."""
    if backend != "postgresql":
        pytest.skip("the pooled autocommit connection exists on PostgreSQL only")
    from tests.support.postgres import execute_as_admin

    assert client.submit(household_instance(version, "uuid:before")).status_code == 201
    server = request.getfixturevalue("postgres_server")
    name = db.get_bind().url.database
    db.close()
    execute_as_admin(server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")

    first = client.submit(household_instance(version, "uuid:meets-the-dead-connection"))
    codes = [first.status_code]
    for n in range(3):  # at most one more may meet a dead connection of the other pool
        response = client.submit(household_instance(version, f"uuid:after-{n}"))
        codes.append(response.status_code)
        if response.status_code == 201:
            break

    assert codes[-1] == 201, codes
    assert len(codes) <= 3, codes
    assert db.scalar(select(func.count()).select_from(Submission)
                     .where(Submission.instance_id.like("uuid:after-%"))) == 1
