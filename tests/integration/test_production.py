"""Issue 15, points 4 and 10: the production path of ``deploy/`` as a whole.

Two app instances under gunicorn (``deploy/gunicorn.conf.py``) behind nginx with the shipped site
(``deploy/nginx/``, TLS), one PostgreSQL, the S3-compatible server, two ``fangpin worker``
processes (``TAKE_IN=queue``): submissions sent through the proxy are spread over both
instances, each is stored once and taken in once; slow clients dribbling bytes at the proxy do
not hold up the phones; the site keeps ID numbers and tokens out of its access log.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.households.models import Household, SurveyVersion
from server.submissions.models import Submission
from tests.conftest import _prepare
from tests.integration.test_registry import HEAD, SPOUSE
from tests.support.collect import CollectClient
from tests.support.households import id_number
from tests.support.postgres import execute_as_admin, on_database
from tests.support.production import DEPLOY, running_stack
from tests.support.s3server import CREDENTIALS, REGION, s3_client
from tests.sync.test_submission_registry import household_xml

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("production")]

PHONES = 40


def family(n: int) -> list[dict]:
    return [{**HEAD, "a7_id_number": id_number("430421", "19700101", 300 + n)},
            {**SPOUSE, "a7_id_number": id_number("430421", "19720202", 400 + n)}]


@pytest.fixture(scope="module")
def stack(postgres_server, s3_endpoint, tmp_path_factory):
    name = "fangpin_production_gw" + str(abs(hash(str(tmp_path_factory.getbasetemp()))) % 1000)
    execute_as_admin(postgres_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                     f"CREATE DATABASE {name}")
    url = on_database(postgres_server, name)
    seeded = _prepare(url)
    s3_client(s3_endpoint).create_bucket(Bucket="fangpin-production")
    folder = tmp_path_factory.mktemp("production")
    environment = {
        "DATABASE_URL": url, "MEDIA_STORE": "s3://fangpin-production/media",
        "S3_ENDPOINT_URL": s3_endpoint, "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "TAKE_IN": "queue", "TRUSTED_PROXIES": "1", "SECRET_KEY": "production-test",
        "FANGPIN_INSTANCE": str(folder / "instance"), "PUBLIC_URL": "https://127.0.0.1",
    }
    with running_stack(folder, environment, worker_args=("--batch", "5", "--poll", "0.1",
                                                         "--busy-rate", "0")) as started:
        yield started, url, seeded
    execute_as_admin(postgres_server, f"DROP DATABASE {name} WITH (FORCE)")


def phone(stack_, seeded) -> CollectClient:
    client = CollectClient(stack_.url, seeded.tokens["helper"])
    client.http.verify = str(stack_.certificate)
    client.http.trust_env = False  # REQUESTS_CA_BUNDLE would win over the session's verify
    return client


def wait_until_taken_in(url: str, expected: int, timeout: float = 120) -> dict:
    engine = sa.create_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as connection:
                states = dict(connection.execute(
                    select(Submission.state, func.count()).group_by(Submission.state)).all())
            if states.get("applied", 0) >= expected or time.monotonic() > deadline:
                return states
            time.sleep(0.25)
    finally:
        engine.dispose()


def test_submissions_through_the_proxy_are_spread_stored_once_and_taken_in_once(stack):
    stack_, url, seeded = stack
    client = phone(stack_, seeded)
    phones = [household_xml(seeded, family(n)) for n in range(PHONES)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(client.submit, phones))
    assert [a.status_code for a in answers] == [201] * PHONES, answers[0].text

    states = wait_until_taken_in(url, PHONES)
    assert states == {"applied": PHONES}
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count(), func.count(
            Submission.instance_id.distinct()))).one()
        created = connection.scalar(select(func.count()).select_from(AuditEntry)
                                    .where(AuditEntry.action == "household.created"))
        households = connection.scalar(select(func.count()).select_from(Household))
        versions = connection.scalar(select(func.count()).select_from(SurveyVersion))
    engine.dispose()
    assert tuple(stored) == (PHONES, PHONES)
    assert created == households == versions == PHONES  # each taken in once

    served = [len(re.findall(r'"POST /key/[^ ]+/submission', stack_.log(f"web{n}.access")))
              for n in range(2)]
    assert sum(served) == PHONES and all(served), served  # both instances took phones
    taken = [sum(int(n) for n in re.findall(r"登记 (\d+) 份", stack_.log(f"worker{n}")))
             for n in range(2)]
    assert sum(taken) == PHONES, taken


def test_plain_http_is_sent_to_https_and_the_app_sees_the_client_as_https(stack):
    stack_, _, _ = stack
    redirect = requests.get(f"{stack_.http_url}/console/login", allow_redirects=False,
                            timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["Location"].startswith("https://")
    login = requests.get(f"{stack_.url}/console/login", verify=str(stack_.certificate),
                         timeout=10)
    assert login.status_code == 200
    # the session cookie is https-only (SESSION_COOKIE_SECURE) and the app knows it is https
    form = requests.Session()
    form.verify = str(stack_.certificate)
    form.trust_env = False
    page = form.get(f"{stack_.url}/console/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    # over https the CSRF check wants a same-origin Referer, as a browser sends it: the app
    # knows the request came over https (X-Forwarded-Proto from the proxy, TRUSTED_PROXIES)
    answer = form.post(f"{stack_.url}/console/login", timeout=10, allow_redirects=False,
                       headers={"Referer": f"{stack_.url}/console/login"},
                       data={"csrf_token": token, "username": "county",
                             "password": "correct horse battery"})
    assert answer.status_code == 302, answer.text
    assert "Secure" in answer.headers["Set-Cookie"]


def _dribble(address: tuple[str, int], path: str, stop: threading.Event, tls: bool,
             multipart: bool) -> None:
    """A slow client: a request's headers, then its body a byte a second. ``multipart``: the
    body is a submission's (a part's headers, then the XML a byte a second), which the app
    reads; else one that it refuses on its headers and gunicorn reads to the end."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    kind, start = "text/xml", b""
    if multipart:
        kind = f"multipart/form-data; boundary={BOUNDARY}"
        start = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; "
                 'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n').encode()
    try:
        with socket.create_connection(address, timeout=30) as raw, \
                (context.wrap_socket(raw) if tls else raw) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"Content-Type: {kind}\r\nContent-Length: 100000\r\n\r\n".encode()
                         + start)
            while not stop.wait(1):
                sock.sendall(b"<")
    except OSError:
        pass  # let go (nginx's client_body_timeout, or the test's end)


BOUNDARY = "dribble0boundary"


@contextmanager
def slow_clients(url: str, path: str, count: int = 24, multipart: bool = False
                 ) -> Iterator[None]:
    host, port = url.split("://")[1].split(":")
    stop = threading.Event()
    threads = [threading.Thread(target=_dribble, daemon=True,
                                args=((host, int(port)), path, stop, url.startswith("https"),
                                      multipart))
               for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)  # every slow client is connected and dribbling
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)


def test_slow_clients_at_the_proxy_do_not_hold_up_the_phones(stack):
    """24 connections dribbling a body (more than the two instances' 8 threads) while phones
    send: nginx holds the slow ones and the phones are answered at once. The same slow clients
    sent straight to an instance take every thread it has, and a phone waits (the hazard the
    proxy is there for)."""
    stack_, _, seeded = stack
    client = phone(stack_, seeded)
    path = f"/key/{seeded.tokens['helper']}/submission"
    times = []
    with slow_clients(stack_.url, path):
        for n in range(PHONES, PHONES + 8):
            began = time.monotonic()
            response = client.submit(household_xml(seeded, family(n)))
            times.append(time.monotonic() - began)
            assert response.status_code == 201, response.text
    assert max(times) < 3, times

    direct = CollectClient(stack_.instances[0], seeded.tokens["helper"])
    with slow_clients(stack_.instances[0], path), pytest.raises(requests.Timeout):
        direct.submit(household_xml(seeded, family(PHONES + 8)), timeout=3)


def test_the_access_log_keeps_no_token_id_number_or_query(stack):
    stack_, _, seeded = stack
    client = phone(stack_, seeded)
    searched = id_number("430421", "19700101", 300)
    api = requests.get(f"{stack_.url}/api/v1/households", params={"q": searched},
                       auth=("county", "correct horse battery"),
                       verify=str(stack_.certificate), timeout=10)
    assert api.status_code in (200, 400, 422)
    assert client.form_list().status_code == 200
    time.sleep(0.5)
    logged = (stack_.folder / "access.log").read_text()
    assert "/formList" in logged and "/api/v1/households" in logged
    assert seeded.tokens["helper"] not in logged
    assert searched not in logged and "deviceID" not in logged


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_units_are_valid(tmp_path):
    """``systemd-analyze verify`` finds nothing wrong but the paths of an installation this
    machine does not have."""
    for unit in (DEPLOY / "systemd").glob("*.service"):
        name = unit.name.replace("@.", "@1.")
        copy = tmp_path / name
        copy.write_text(unit.read_text())
        found = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                               text=True)
        problems = [line for line in (found.stdout + found.stderr).splitlines()
                    if line.strip() and "is not executable" not in line
                    and "No such file or directory" not in line]
        assert problems == [], (unit.name, problems)
        assert Path(copy).exists()
