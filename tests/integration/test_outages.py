"""Issue 15, faults 1–3: the server through a database restart, an unreachable media store and a
full disk; the health checks a proxy and a service manager use.

The database tests run on a PostgreSQL cluster of their own (``tests.support.postgres.Cluster``),
stopped and started again in the middle of the test, behind the app on a real HTTP server: what
a phone sent before, during and after the outage is stored exactly once, every refusal during it
is a 503 with ``Retry-After`` in the route's format, and the request after the database's return
succeeds with no restart of anything.
"""

from __future__ import annotations

import errno
import hashlib
import io
import itertools
import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from PIL import Image
from sqlalchemy import func, select

from server import create_app
from server.households.models import Household
from server.intake.worker import Backoff, Pacing, run_worker
from server.migrate import revisions
from server.submissions.models import Submission
from tests.conftest import _prepare
from tests.integration.test_registry import HEAD, SPOUSE
from tests.support.collect import CollectClient, household_instance, jpeg_bytes, png_bytes
from tests.support.console import Console
from tests.support.households import id_number
from tests.support.postgres import (
    Cluster,
    execute_as_admin,
    free_port,
    on_database,
    running_cluster,
)
from tests.support.s3server import CREDENTIALS, REGION, running_s3_server, s3_client
from tests.support.seed import PASSWORD, Seeded
from tests.support.serving import serving
from tests.sync.test_submission_registry import household_xml

_names = itertools.count()


@dataclass
class OwnDatabase:
    url: str
    seeded: Seeded


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster() as started:
        yield started


@pytest.fixture(scope="module")
def template(cluster) -> OwnDatabase:
    execute_as_admin(cluster.url, "CREATE DATABASE fangpin_outage_template")
    url = on_database(cluster.url, "fangpin_outage_template")
    return OwnDatabase(url, _prepare(url))


@pytest.fixture
def own_database(cluster, template) -> Iterator[OwnDatabase]:
    name = f"fangpin_outage_{next(_names)}"
    execute_as_admin(cluster.url, f"CREATE DATABASE {name} TEMPLATE fangpin_outage_template")
    yield OwnDatabase(on_database(cluster.url, name), template.seeded)
    cluster.start_if_stopped()
    execute_as_admin(cluster.url, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def app_config(own_database, tmp_path) -> dict:
    return {"DATABASE_URL": own_database.url, "MEDIA_STORE": str(tmp_path / "media"),
            "PUBLIC_URL": "http://phones.example", "TAKE_IN": "queue",
            "MAX_SUBMISSION_BYTES": 2 * 1024 * 1024, "SECRET_KEY": "outages",
            "SESSION_COOKIE_SECURE": False}


@pytest.fixture
def seeded(own_database) -> Seeded:
    return own_database.seeded


def family(n: int) -> list[dict]:
    return [{**HEAD, "a7_id_number": id_number("430421", "19800101", 100 + n)},
            {**SPOUSE, "a7_id_number": id_number("430421", "19820202", 200 + n)}]


def stored(url: str) -> tuple[int, int]:
    """Submissions stored, and distinct instanceIDs among them."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(select(func.count(), func.count(Submission.instance_id.distinct()))
                                 .select_from(Submission)).one()
    engine.dispose()
    return row[0], row[1]


def assert_openrosa_503(response: requests.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["X-Error-Code"] == code
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert "<OpenRosaResponse" in response.text


def test_submissions_before_during_and_after_a_database_restart_are_each_stored_once(
        cluster, own_database, live_server, seeded):
    client = CollectClient(live_server, seeded.tokens["helper"])
    api = requests.Session()
    api.auth = ("county", PASSWORD)
    phones = {n: household_xml(seeded, family(n)) for n in range(12)}
    console = Console(live_server)
    for n in range(4):
        assert client.submit(phones[n]).status_code == 201
    assert api.get(f"{live_server}/api/v1/households").status_code == 200
    assert console.login("county").status_code == 302
    assert console.get("/").status_code == 200

    cluster.stop("fast")  # a restart's first half: every connection of the pools is closed
    for n in range(4, 8):
        assert_openrosa_503(client.submit(phones[n]), "DATABASE_UNAVAILABLE")
    rest = api.get(f"{live_server}/api/v1/households")
    assert rest.status_code == 503 and rest.json()["code"] == "DATABASE_UNAVAILABLE"
    assert int(rest.headers["Retry-After"]) > 0
    assert client.form_list().status_code == 503
    page = console.get("/")
    assert page.status_code == 503 and 'data-error-code="DATABASE_UNAVAILABLE"' in page.text
    ready = requests.get(f"{live_server}/health/ready")
    assert ready.status_code == 503 and not ready.json()["checks"]["database"]["ok"]
    assert requests.get(f"{live_server}/health/live").status_code == 200

    cluster.start()
    # the phones send again what was refused, then new work; the first request succeeds
    for n in range(4, 12):
        response = client.submit(phones[n])
        assert response.status_code == 201, response.text
    assert api.get(f"{live_server}/api/v1/households").status_code == 200
    assert requests.get(f"{live_server}/health/ready").status_code == 200
    assert console.get("/").status_code == 200  # the same session: nobody logs in again

    assert stored(own_database.url) == (12, 12)


def test_a_restart_between_requests_costs_no_request(cluster, own_database, live_server,
                                                     seeded):
    """No request while the database was down: the pool still holds the closed connections,
    and the first request after the return gets a working one (idle connections are pinged)."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    for n in range(3):  # several pooled connections, on the app's both engines
        assert client.submit(household_xml(seeded, family(n))).status_code == 201
    cluster.stop("fast")
    cluster.start()
    time.sleep(1.1)  # the pool's connections have been idle past the ping threshold
    for n in range(3, 6):
        response = client.submit(household_xml(seeded, family(n)))
        assert response.status_code == 201, response.text

    assert stored(own_database.url) == (6, 6)


def test_the_worker_waits_out_a_database_restart_and_takes_everything_in(
        cluster, own_database, live_server, seeded, app):
    client = CollectClient(live_server, seeded.tokens["helper"])
    for n in range(10):
        assert client.submit(household_xml(seeded, family(n))).status_code == 201
    database = app.extensions["fangpin.db"]
    stop = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_worker(database, batch=2, poll=0.05, pacing=Pacing(busy_rate=0), stop=stop)
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    cluster.stop("fast")
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    time.sleep(3)  # several tries against no database
    assert worker.is_alive() and not errors
    cluster.start()
    engine = sa.create_engine(own_database.url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                states = dict(connection.execute(
                    select(Submission.state, func.count()).group_by(Submission.state)).all())
                households = connection.scalar(select(func.count()).select_from(Household))
            if states == {"applied": 10}:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(30)
        engine.dispose()
    assert not errors
    assert states == {"applied": 10} and households == 10


def test_the_backoff_doubles_to_its_longest_and_starts_again_after_a_success():
    backoff = Backoff(first=0.5, longest=4)
    delays = [backoff.next() for _ in range(6)]
    for delay, base in zip(delays, [0.5, 1, 2, 4, 4, 4], strict=True):
        assert base <= delay <= base * 1.25
    backoff.reset()
    assert backoff.next() <= 0.5 * 1.25


# --- the media store --------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A file system of 1 MiB (tmpfs, mounted as root); where mounting is not allowed, the
    test injects ENOSPC at the store's file writes instead."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                             capture_output=True).returncode == 0
    yield folder if mounted else None
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def noise_jpeg(side: int = 400) -> bytes:
    """A photo that does not compress: about 100 kB."""
    image = Image.frombytes("RGB", (side, side), random.randbytes(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_a_full_disk_refuses_the_submission_whole_and_the_retry_succeeds(
        own_database, seeded, small_disk, tmp_path, monkeypatch):
    """No room while a photo is written: 507 with the catalogue's message as an
    OpenRosaResponse, no submission row, no file left in the store's folders; the same
    submission sent again once there is room is stored with its photo."""
    root = (small_disk or tmp_path) / "media"
    app = create_app({"DATABASE_URL": own_database.url, "MEDIA_STORE": str(root),
                      "PUBLIC_URL": "http://phones.example"})
    photo = noise_jpeg()
    xml = household_instance(seeded.form_versions["household"], "uuid:full-disk")
    files = {"house.jpg": photo, "sig.png": png_bytes()}
    filler = root.parent / "filler"
    if small_disk is not None:  # leave less room than the photo needs
        free = shutil.disk_usage(small_disk).free
        filler.write_bytes(b"\0" * (free - len(photo) // 2))
    else:
        real_fdopen = os.fdopen

        def full_disk(fd, *args, **kwargs):
            file = real_fdopen(fd, *args, **kwargs)

            class Full:
                def __getattr__(self, name):
                    return getattr(file, name)

                def write(self, data):
                    raise OSError(errno.ENOSPC, "No space left on device")

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    return file.__exit__(*exc)
            return Full()

        monkeypatch.setattr("media.local.os.fdopen", full_disk)
    try:
        with serving(app) as url:
            client = CollectClient(url, seeded.tokens["helper"])
            refused = client.submit(xml, files)
            assert refused.status_code == 507, refused.text
            assert refused.headers["X-Error-Code"] == "MEDIA_STORE_FULL"
            assert "<OpenRosaResponse" in refused.text
            assert stored(own_database.url) == (0, 0)
            left = {p.name for p in root.rglob("*") if p.is_file()}
            assert hashlib.sha256(photo).hexdigest() not in left
            assert not [name for name in left if name.startswith("put-")]

            if small_disk is not None:
                filler.unlink()
            else:
                monkeypatch.undo()
            accepted = client.submit(xml, files)
            assert accepted.status_code == 201, accepted.text
            assert (root / photo_path(photo)).read_bytes() == photo
    finally:
        app.extensions["fangpin.db"].engine.dispose()
    assert stored(own_database.url) == (1, 1)


def photo_path(content: bytes) -> str:
    key = hashlib.sha256(content).hexdigest()
    return f"{key[:2]}/{key[2:4]}/{key}"


def test_an_unreachable_s3_server_refuses_with_503_and_the_retry_succeeds(own_database,
                                                                         seeded, tmp_path):
    port = free_port()
    with running_s3_server(port=port) as endpoint:
        s3_client(endpoint).create_bucket(Bucket="fangpin-outage")
    app = create_app({
        "DATABASE_URL": own_database.url, "MEDIA_STORE": "s3://fangpin-outage/media",
        "S3_ENDPOINT_URL": endpoint, "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "PUBLIC_URL": "http://phones.example"})
    xml = household_instance(seeded.form_versions["household"], "uuid:s3-outage")
    photo = jpeg_bytes()
    files = {"house.jpg": photo, "sig.png": png_bytes()}
    try:
        with serving(app) as url:
            client = CollectClient(url, seeded.tokens["helper"])
            refused = client.submit(xml, files)
            assert_openrosa_503(refused, "MEDIA_STORE_UNAVAILABLE")
            ready = requests.get(f"{url}/health/ready")
            assert ready.status_code == 503 and not ready.json()["checks"]["media"]["ok"]
            assert ready.json()["checks"]["database"]["ok"]
            assert stored(own_database.url) == (0, 0)

            with running_s3_server(port=port):
                accepted = client.submit(xml, files)
                assert accepted.status_code == 201, accepted.text
                assert requests.get(f"{url}/health/ready").status_code == 200
                listed = s3_client(endpoint).list_objects_v2(Bucket="fangpin-outage")
                keys = {item["Key"].rsplit("/", 1)[-1] for item in listed["Contents"]}
                assert hashlib.sha256(photo).hexdigest() in keys
    finally:
        app.extensions["fangpin.db"].engine.dispose()
    assert stored(own_database.url) == (1, 1)


# --- health -----------------------------------------------------------------------------------


def test_ready_says_which_migrations_are_missing(cluster):
    """A database whose schema is behind the code: not ready (a proxy sends it no phone), and
    the answer names the revisions to apply; alive all the same."""
    execute_as_admin(cluster.url, "CREATE DATABASE fangpin_outage_unmigrated")
    app = create_app({"DATABASE_URL": on_database(cluster.url, "fangpin_outage_unmigrated"),
                      "MEDIA_STORE": "memory://", "PUBLIC_URL": "http://phones.example"})
    try:
        client = app.test_client()
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json["checks"]["database"]["revisions"] == sorted(revisions()[0])
        assert client.get("/health/live").status_code == 200
    finally:
        app.extensions["fangpin.db"].engine.dispose()
        execute_as_admin(cluster.url, "DROP DATABASE fangpin_outage_unmigrated WITH (FORCE)")


def test_a_token_not_cached_yet_hears_503_while_the_database_is_down(cluster, own_database,
                                                                     live_server, seeded):
    """The short road (``sync.shortcut``) reads a token its cache does not know from the
    database: with the database down, the phone hears the view's 503, then is stored."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    xml = household_xml(seeded, family(1))
    cluster.stop("fast")
    assert_openrosa_503(client.submit(xml), "DATABASE_UNAVAILABLE")
    cluster.start()
    assert client.submit(xml).status_code == 201
    assert stored(own_database.url) == (1, 1)
