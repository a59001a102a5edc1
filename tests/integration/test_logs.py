"""The server's logs (issue 15, point 8): structured lines with a request id, the user's id and
the route, and never a password, a Collect token, an ID number or a phone number — in the
app's own lines, in werkzeug's and in gunicorn's access log (``server.logs``)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from server import logs
from server.config import PROJECT_ROOT
from server.domain.personal import redact
from tests.support.console import Console
from tests.support.households import HEAD
from tests.support.postgres import free_port
from tests.support.production import DEPLOY, _wait_for
from tests.support.rest import Api, post_household
from tests.support.seed import PASSWORD

ID = HEAD["a7_id_number"]
PHONE = "13812345678"


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "SESSION_COOKIE_SECURE": False}


@pytest.fixture
def log_lines(app) -> io.StringIO:
    """What the app logs, as its root handler writes it (JSON), captured."""
    stream = io.StringIO()
    handler = logs.configure("json", stream=stream)
    yield stream
    logs.configure("json")
    handler.close()


def test_no_secret_or_personal_data_reaches_the_log(live_server, seeded, log_lines):
    """An ID number in a JSON body and in a refused URL, a Basic password, a console password,
    a phone number in a URL and a Collect token path: none is in the log, and each request has
    one line with its id, its route (the URL rule), its status and the user's id."""
    post_household(live_server, seeded, [HEAD])
    token = seeded.tokens["helper"]
    county = Api(live_server, "county")
    county.http.headers["X-Request-Id"] = "req-search-1"

    found = county.people_with_id(ID)
    refused = county.get("/people", id_number=ID)
    Api(live_server, "county", "wrong " + PASSWORD).get("/areas")
    Console(live_server).login("village", "typed-" + PASSWORD)
    county.get("/households", phone=PHONE)
    form_list = requests.get(f"{live_server}/key/{token}/formList", timeout=30)

    text = log_lines.getvalue()
    for secret in (ID, PASSWORD, token, PHONE):
        assert secret not in text
    assert found and refused.status_code == 400 and form_list.status_code == 200
    assert form_list.headers["X-Request-Id"]
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests_logged = [line for line in lines if line["logger"] == logs.REQUEST_LOGGER]
    [search] = [line for line in requests_logged if line["route"] == "/api/v1/people/search"]
    assert (search["request_id"], search["method"], search["status"]) == (
        "req-search-1", "POST", 200)
    assert isinstance(search["user_id"], int) and search["duration_ms"] >= 0
    assert {"time", "level", "message"} <= set(search)
    [collect] = [line for line in requests_logged if line["route"] == "/key/<token>/formList"]
    assert collect["status"] == 200 and collect["request_id"] == form_list.headers["X-Request-Id"]
    assert any(line["route"] == "/api/v1/people" and line["status"] == 400
               for line in requests_logged)


def test_a_request_id_is_never_redacted():
    """The ids the server makes never look like a phone or an ID number to the redaction."""
    ids = [logs.new_request_id() for _ in range(2000)]
    assert all(redact(f"rid={rid}") == f"rid={rid}" for rid in ids) and len(set(ids)) == 2000


def test_the_text_format_is_redacted_too():
    stream = io.StringIO()
    handler = logs.configure("text", stream=stream)
    try:
        import logging

        logging.getLogger("fangpin.test").warning("looked up %s, phone %s", ID, PHONE)
    finally:
        logs.configure("json")
        handler.close()
    line = stream.getvalue()
    assert "WARNING fangpin.test: looked up 430421" in line
    assert ID not in line and PHONE not in line


def test_gunicorns_access_log_has_no_token_or_id_number_and_carries_the_request_id(tmp_path):
    """deploy/gunicorn.conf.py's GunicornLogger: the access lines of a real gunicorn are
    redacted and end with the request id the app answered with."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'fangpin.sqlite3'}",
           "MEDIA_STORE": str(tmp_path / "media"), "FANGPIN_INSTANCE": str(tmp_path),
           "WEB_WORKERS": "1", "WEB_THREADS": "2", "LOG_FORMAT": "json"}
    subprocess.run([sys.executable, "-m", "server.cli", "migrate"], cwd=PROJECT_ROOT, env=env,
                   check=True, capture_output=True, timeout=300)
    port = free_port()
    access_log, output = tmp_path / "access.log", tmp_path / "gunicorn.log"
    token = "Zt0ken-of-a-phone_123456789"
    with open(output, "wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c",
             str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"], cwd=PROJECT_ROOT,
            env={**env, "FANGPIN_BIND": f"127.0.0.1:{port}", "WEB_ACCESS_LOG": str(access_log)},
            stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/health/live", process, output)
        answers = [
            requests.get(f"{base}/key/{token}/formList", timeout=30,
                         headers={"X-Request-Id": "phone-req-7"}),
            requests.get(f"{base}/api/v1/people", params={"id_number": ID}, timeout=30),
            requests.get(f"{base}/api/v1/areas", params={"password": "p4ss-in-url"},
                         auth=("county", PASSWORD), timeout=30),
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    access = access_log.read_text()
    everything = access + output.read_text(errors="replace")

    assert [a.status_code for a in answers][:2] == [401, 400]
    assert answers[0].headers["X-Request-Id"] == "phone-req-7"
    for secret in (token, ID, "p4ss-in-url", PASSWORD):
        assert secret not in everything
    assert "/key/***/formList" in access and "rid=phone-req-7" in access
    assert f"rid={answers[1].headers['X-Request-Id']}" in access
