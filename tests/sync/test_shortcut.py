"""The short road of the usual submission (``sync.shortcut``): it answers as Flask's view
does, takes only what it may, and hands every refusal to the view, which keeps what was sent."""

from __future__ import annotations

import io

import pytest
from flask import request_started
from sqlalchemy import func, select
from werkzeug.test import Client

from server.submissions.models import RejectedUpload, Submission
from sync.shortcut import SubmissionShortcut
from tests.support.collect import household_instance

# The headers a phone or a script reads from a submission's answer.
ANSWER_HEADERS = ("Content-Type", "X-OpenRosa-Version", "X-OpenRosa-Accept-Content-Length",
                  "X-Submission-State", "X-Error-Code")


@pytest.fixture
def roads(app):
    """The app as served (the short road in front) and Flask's road alone."""
    shortcut = app.wsgi_app
    assert isinstance(shortcut, SubmissionShortcut)
    return {"short": Client(app), "flask": Client(shortcut.flask_app)}


@pytest.fixture
def flask_requests(app) -> list[str]:
    """The paths of the requests Flask's machinery saw."""
    seen: list[str] = []

    def started(sender, **_extra):
        from flask import request

        seen.append(request.path)

    request_started.connect(started, app)
    yield seen
    request_started.disconnect(started, app)


def _post(client: Client, token: str, xml: bytes | None, *, query: dict | None = None,
          **kwargs):
    data = {}
    if xml is not None:
        data["xml_submission_file"] = (io.BytesIO(xml), "submission.xml", "text/xml")
    return client.post(f"/key/{token}/submission", data=data,
                       query_string=query or {"deviceID": "collect:abc"},
                       content_type="multipart/form-data", **kwargs)


def _answer(response, road: str) -> tuple:
    """Status, headers and body, the road's own instanceIDs made alike."""
    return (response.status_code, {name: response.headers.get(name) for name in ANSWER_HEADERS},
            response.get_data().replace(f"uuid:{road}-".encode(), b"uuid:-"))


def _cases(version: str, road: str) -> list[tuple[str, bytes | None]]:
    """(what, XML) pairs sent in turn; instanceIDs of their own on each road."""
    first = household_instance(version, f"uuid:{road}-1")
    return [
        ("new", first),
        ("the same again", first),
        ("a conflicting copy", household_instance(version, f"uuid:{road}-1", head="王五")),
        ("malformed XML", b"<data id='household'><unclosed>"),
        ("an unknown form version", household_instance("1999", f"uuid:{road}-2")),
        ("no XML part", None),
    ]


def test_both_roads_answer_alike(roads, seeded, db):
    """Every case answers the same status, headers and body on the short road as through
    Flask alone; each refusal is kept once, whichever road it came by."""
    token, version = seeded.tokens["helper"], seeded.form_versions["household"]
    answers = {road: [(what, _answer(_post(client, token, xml), road))
                      for what, xml in _cases(version, road)]
               for road, client in roads.items()}

    for (what, short), (_, flask) in zip(answers["short"], answers["flask"], strict=True):
        assert short == flask, what
    statuses = [status for _, (status, _, _) in answers["short"]]
    assert statuses[:2] == [201, 201] and all(status >= 400 for status in statuses[2:])
    db.rollback()
    kept = dict(db.execute(select(RejectedUpload.error_code, func.count())
                           .group_by(RejectedUpload.error_code)).all())
    # each refusal with an XML body is kept once per road: never twice for the short road
    refused_with_xml = {headers["X-Error-Code"] for _, (_, headers, _) in answers["short"][2:5]}
    assert len(refused_with_xml) == 3 and kept == dict.fromkeys(refused_with_xml, 2), kept
    assert db.scalar(select(func.count()).select_from(Submission)) == 2


def test_the_usual_submission_never_reaches_flask(roads, seeded, flask_requests, db):
    """What the short road is for: a new household over a token URL is stored and answered
    without Flask's machinery; a refusal, an unknown token and another query go to Flask."""
    token, version = seeded.tokens["helper"], seeded.form_versions["household"]
    short = roads["short"]

    stored = _post(short, token, household_instance(version, "uuid:short-only"))
    assert stored.status_code == 201 and flask_requests == []
    assert stored.headers["X-Request-Id"]
    db.rollback()
    row = db.execute(select(Submission.device_id, Submission.state)
                     .where(Submission.instance_id == "uuid:short-only")).one()
    assert row.device_id == "collect:abc"
    assert stored.headers["X-Submission-State"] == row.state

    conflict = _post(short, token, household_instance(version, "uuid:short-only", head="王五"))
    assert conflict.status_code == 409 and len(flask_requests) == 1
    assert conflict.headers["X-Error-Code"] == "SUBMISSION_DUPLICATE_CONFLICT"

    unknown = _post(short, "not-a-token", household_instance(version))
    assert unknown.status_code == 401 and len(flask_requests) == 2
    other_query = _post(short, token, household_instance(version),
                        query={"deviceID": "d", "x": "1"})
    assert len(flask_requests) == 3, other_query.status_code


def test_the_short_road_keeps_the_request_id_and_writes_the_request_line(
        roads, seeded, flask_requests, caplog):
    token, version = seeded.tokens["helper"], seeded.form_versions["household"]
    with caplog.at_level("INFO", logger="fangpin.request"):
        response = _post(roads["short"], token, household_instance(version),
                         headers={"X-Request-Id": "phone-42"})
    assert response.status_code == 201 and flask_requests == []
    assert response.headers["X-Request-Id"] == "phone-42"
    [line] = [record for record in caplog.records if record.name == "fangpin.request"]
    assert (line.request_id, line.route, line.status, line.method) == (
        "phone-42", "/key/<token>/submission", 201, "POST")
    assert line.user_id is not None and line.duration_ms >= 0
    assert token not in line.getMessage()
