"""Hostile or broken submissions (issue 15, points 5 and 6): bad input gets a clear OpenRosa
error Collect can show, and loses nothing — what was received is kept, up to a size, and the
kept bodies go after a retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry
from server.clock import shifted
from server.submissions.models import RejectedUpload, Submission
from tests.support.collect import (
    CollectClient,
    household_instance,
    jpeg_bytes,
    png_bytes,
    response_message,
)

MiB = 1024 * 1024


@pytest.fixture
def app_config(app_config) -> dict:
    """Bodies of a few MiB fit (the suite's own limit is 2 MiB)."""
    return {**app_config, "MAX_SUBMISSION_BYTES": 8 * MiB, "MAX_XML_BYTES": 4 * MiB}


@pytest.fixture
def client(live_server, seeded) -> CollectClient:
    return CollectClient(live_server, seeded.tokens["helper"])


@pytest.fixture
def version(seeded) -> str:
    return seeded.form_versions["household"]


def _count(db: Session, model) -> int:
    db.rollback()  # see what other connections committed
    return db.scalar(select(func.count()).select_from(model))


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["X-Error-Code"] == code
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response_message(response)  # well-formed OpenRosa XML that Collect shows


def _kept(db: Session) -> RejectedUpload:
    db.rollback()
    return db.scalar(select(RejectedUpload))


def _padded(version: str, instance_id: str, size: int) -> bytes:
    """A household instance of about ``size`` bytes (a long comment-free note)."""
    xml = household_instance(version, instance_id)
    pad = b"<note>" + b"x" * max(0, size - len(xml) - 13) + b"</note>"
    return xml.replace(b"</data>", pad + b"</data>")


# --- point 5: refused bodies are read and kept with a cap ------------------------------------


def test_a_refused_xml_over_the_keep_cap_is_kept_truncated_with_its_full_size(client, db):
    """Issue 15.5: a refused body is kept up to 2 MiB; the rest is counted, not stored."""
    xml = _padded("0000dead0000", "uuid:big-refused", 3 * MiB)

    response = client.submit(xml)

    _refused(response, 404, "FORM_VERSION_UNKNOWN")
    kept = _kept(db)
    assert kept.error_code == "FORM_VERSION_UNKNOWN"
    assert kept.size == len(xml)
    assert kept.body == xml[:2 * MiB]


def test_a_small_refused_xml_is_kept_whole(client, db):
    xml = household_instance("0000dead0000", "uuid:small-refused")

    _refused(client.submit(xml), 404, "FORM_VERSION_UNKNOWN")
    kept = _kept(db)
    assert (kept.body, kept.size, kept.instance_id) == (xml, len(xml), "uuid:small-refused")


def test_an_xml_part_over_its_limit_is_refused_413_and_kept_truncated(client, version, db):
    """Issue 15.5: the XML part is read with a cap (MAX_XML_BYTES), never whole."""
    xml = _padded(version, "uuid:too-big", 5 * MiB)

    response = client.submit(xml)

    _refused(response, 413, "XML_TOO_LARGE")
    assert _count(db, Submission) == 0
    kept = _kept(db)
    assert kept.error_code == "XML_TOO_LARGE"
    assert kept.size == len(xml)
    assert kept.body == xml[:2 * MiB]


def _reject(app, xml: bytes, code: str = "XML_MALFORMED") -> None:
    from server.db import database
    from server.errors import AppError
    from server.submissions.services import record_rejection

    with app.app_context():
        record_rejection(database().unit_of_work, AppError(code, detail="x"), None, xml)


def test_prune_rejected_removes_old_kept_bodies_and_leaves_recent_ones(app, db):
    """Issue 15.5: ``fangpin prune-rejected --older-than 90d`` removes the refused uploads
    received before the retention period, reports what it freed, and is audited."""
    from server.cli import main

    with shifted(-timedelta(days=91)):
        _reject(app, b"<old>" + b"o" * 1000 + b"</old>")
    with shifted(-timedelta(days=89)):
        _reject(app, b"<recent/>")
    _reject(app, b"<today/>")

    result = app.test_cli_runner().invoke(main, ["prune-rejected", "--older-than", "90d"])

    assert result.exit_code == 0, result.output
    db.rollback()
    assert sorted(db.scalars(select(RejectedUpload.body))) == [b"<recent/>", b"<today/>"]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "rejected_uploads.pruned"))
    assert entry.details["removed"] == 1 and entry.details["bytes"] == 1011
    assert entry.details["older_than"] == "90d"


def test_prune_rejected_takes_hours_and_refuses_an_unknown_period(app, db):
    from server.cli import main

    with shifted(-timedelta(hours=13)):
        _reject(app, b"<a/>")
    _reject(app, b"<b/>")
    runner = app.test_cli_runner()

    bad = runner.invoke(main, ["prune-rejected", "--older-than", "90"])
    assert bad.exit_code == 2
    assert _count(db, RejectedUpload) == 2
    result = runner.invoke(main, ["prune-rejected", "--older-than", "12h"])
    assert result.exit_code == 0, result.output
    db.rollback()
    assert db.scalars(select(RejectedUpload.body)).all() == [b"<b/>"]


# --- point 6: bad names and encodings --------------------------------------------------------


@pytest.mark.parametrize("encoding", ["GBK", "gb2312", "ISO-8859-1", "utf-16"])
def test_xml_declaring_another_encoding_than_utf8_is_refused_and_kept(client, version, db,
                                                                      encoding):
    """Issue 15.6: UTF-8 bytes declared as GBK (or any encoding but UTF-8) would be read as
    mojibake: refused, and kept."""
    xml = household_instance(version, f"uuid:enc-{encoding}").replace(
        b"encoding='UTF-8'", f"encoding='{encoding}'".encode())

    response = client.submit(xml)

    _refused(response, 400, "XML_ENCODING_UNSUPPORTED")
    assert _count(db, Submission) == 0
    assert _kept(db).body == xml


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf8", None])
def test_xml_declaring_utf8_in_any_spelling_is_accepted(client, version, db, encoding):
    xml = household_instance(version, "uuid:enc-ok")
    if encoding is None:
        xml = xml.replace(b" encoding='UTF-8'", b"")
    else:
        xml = xml.replace(b"encoding='UTF-8'", f'encoding="{encoding}"'.encode())

    response = client.submit(xml, {"house.jpg": jpeg_bytes(), "sig.png": png_bytes()})

    assert response.status_code == 201, response.text
    db.rollback()
    assert db.scalar(select(Submission.xml)).encode() == xml


# (a backslash is sent doubled: the header's quoted string escapes it, RFC 7578 / werkzeug)
@pytest.mark.parametrize("name", ["a/house.jpg", "..\\\\house.jpg", "ho\x00use.jpg",
                                  "house\x07.jpg", "\x1b[31mred.jpg", "tab\there.jpg"])
def test_an_attachment_name_with_a_slash_or_control_character_is_a_400_and_kept(
        client, version, db, name):
    """Issue 15.6: a NUL in a file name was a 500 (PostgreSQL text cannot hold it); such a name
    is refused with a clear OpenRosa message, and the XML is kept."""
    xml = household_instance(version, "uuid:bad-name")

    response = client.submit(xml, {name: jpeg_bytes(), "sig.png": png_bytes()})

    _refused(response, 400, "ATTACHMENT_NAME_INVALID")
    assert _count(db, Submission) == 0
    kept = _kept(db)
    assert (kept.error_code, kept.body) == ("ATTACHMENT_NAME_INVALID", xml)


def _chunked_body(xml_size: int):
    yield (b'--b\r\nContent-Disposition: form-data; name="xml_submission_file"; '
           b'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n')
    chunk = b"x" * 65536
    for _ in range(xml_size // len(chunk)):
        yield chunk
    yield b"\r\n--b--\r\n"


def test_a_chunked_body_over_the_limit_answers_openrosa_413(client, app_config):
    """Issue 15.6: Transfer-Encoding: chunked, no Content-Length: the limit still holds and the
    refusal is OpenRosa XML with the catalogue code."""
    body = _chunked_body(app_config["MAX_SUBMISSION_BYTES"] + MiB)
    response = client.http.post(client.url("/submission"), data=body,
                                headers={"Content-Type": "multipart/form-data; boundary=b"},
                                timeout=60)

    _refused(response, 413, "SUBMISSION_TOO_LARGE")


def test_too_many_parts_answers_openrosa_413_with_its_own_code(client, version):
    """Issue 15.6: more multipart parts than the server reads (werkzeug's 1000) is not a body
    too large: its own code, in OpenRosa XML."""
    files = {f"f{n}.txt": b"x" for n in range(1100)}

    response = client.submit(household_instance(version), files)

    _refused(response, 413, "SUBMISSION_TOO_MANY_PARTS")


def test_an_openrosa_message_carries_any_text_escaped():
    """Issue 15.6: no client text reaches the XML unescaped — markup is escaped by the XML
    builder, and characters XML cannot carry at all (NUL, ESC …) are written as escapes
    instead of failing the response (lxml refuses them: a 500)."""
    from lxml import etree

    from sync import openrosa

    body = openrosa.response("文件“<x>&amp;\x00\x1b\ufffe”")

    message = etree.fromstring(body).findtext("{http://openrosa.org/http/response}message")
    assert message == "文件“<x>&amp;\\x00\\x1b\\ufffe”"
