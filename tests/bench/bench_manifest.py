"""Benchmark of the phones' manifest checks (issue 16, "The phones' lists"): the manifest of a
form that lists ``households.csv``, for a helper whose area holds 500 / 2 000 / 20 000
households, at concurrency 8; target p99 < 30 ms at 20 000 and a CPU per request that does not
grow with the list.

Run from the project root (``make bench-manifest``):

    .venv/bin/python -m tests.bench.bench_manifest [--quick] [--n N] [--before REF]

What it does:

1. a throwaway PostgreSQL (``running_postgres(durable=True)``), one database migrated and
   seeded by the project's own code (tests.support.seed), three helpers: one bound to the
   village 430421107003 (500 households), one to another village of 洪市镇 (2 000), one to
   the township 430421107 (those and 17 500 more in its other villages: 20 000);
2. the households loaded with COPY (bench_registry's generator: valid ID numbers, 1–6 people,
   a head, one survey each);
3. with ``--before REF`` (a commit before the change, e.g. the merge base): the database at
   that code's migration head, that code (``git archive REF``) under gunicorn, the manifests
   measured (fewer requests at the larger sizes: each builds the whole list);
4. the database migrated to head (the list counters and their triggers), every household
   touched once (so that the counters hold a row per area, as after months of work) and folded,
   then 200 changes left unfolded in the township; this code under gunicorn, measured;
5. per size: requests, p50/p99 latency, requests/s and the server's CPU per request (the
   gunicorn workers and every PostgreSQL process of the cluster, from /proc), and whether the
   p99 at 20 000 meets the target.

gunicorn as ``make run`` (2 workers × 8 threads, gthread); the client is 8 threads with one
keep-alive connection each, HTTP Basic as a helper (as Collect does without a token URL), on the
same machine (http.client, light): its CPU is not counted, but it competes for the 2 cores.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import sqlalchemy as sa
import sqlalchemy.orm

from server.accounts.models import User
from server.areas.models import Area
from server.config import PROJECT_ROOT
from server.db import make_engine
from server.domain.roles import Role
from server.migrate import upgrade
from tests.bench.bench_registry import People, _copy, _dsn, _tsv
from tests.support.postgres import free_port, running_postgres
from tests.support.seed import PASSWORD, PASSWORD_HASH, TOWNSHIP, VILLAGE, seed

SEED = 20261206
CONCURRENCY = 8
WARM_UP = 50  # requests per client before each measurement
TARGET_P99_MS = 30.0
LIST_REVISION = "f3a8c1d92e57"  # the migration that adds the list counters
FORM = "measures"  # one of the three forms whose manifest lists households.csv
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_SIZE_WEIGHTS = (12, 20, 24, 22, 13, 9)


@dataclass(frozen=True)
class Helper:
    username: str
    area: str
    households: int  # in its area


# --- the data ---------------------------------------------------------------------------------


def _previous_head() -> str:
    from alembic.script import ScriptDirectory

    from server.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("")).get_revision(LIST_REVISION) \
        .down_revision


def prepare(server_url: str, sizes: tuple[int, int, int], before: bool) -> tuple[str, list[Helper]]:
    with psycopg.connect(_dsn(server_url, "postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE fangpin")
    url = sa.make_url(server_url).set(database="fangpin").render_as_string(hide_password=False)
    upgrade(url, _previous_head() if before else "head")
    small, middle, large = sizes
    engine = make_engine(url)
    with sa.orm.Session(engine) as session, session.begin():
        seed(session, PROJECT_ROOT / "xlsforms")
        villages = list(session.scalars(sa.select(Area.code).where(
            Area.code.startswith(TOWNSHIP), Area.level == "village").order_by(Area.code)))
        other = next(code for code in villages if code != VILLAGE)
        rest = [code for code in villages if code not in (VILLAGE, other)]
        helpers = [Helper("bench_village_small", VILLAGE, small),
                   Helper("bench_village_large", other, middle),
                   Helper("bench_township", TOWNSHIP, large)]
        for helper in helpers:
            session.add(User(username=helper.username, full_name=helper.username,
                             role=Role.HELPER.value, area_code=helper.area,
                             password_hash=PASSWORD_HASH, active=True))
    engine.dispose()
    with psycopg.connect(_dsn(url)) as conn:
        submitter = conn.execute("SELECT id FROM users WHERE username = 'helper'").fetchone()[0]
        form_version = conn.execute("SELECT id FROM form_versions WHERE form_id = 'household' "
                                    "ORDER BY id DESC LIMIT 1").fetchone()[0]
        conn.commit()
        rng = random.Random(SEED)
        areas = ([VILLAGE] * small + [other] * middle
                 + [rng.choice(rest) for _ in range(large - small - middle)])
        began = time.perf_counter()
        load_households(conn, areas, form_version, submitter, rng)
        conn.commit()
        conn.autocommit = True
        for table in ("submissions", "persons", "survey_versions"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
        conn.execute("VACUUM ANALYZE")
        print(f"  {len(areas):,} households loaded in {time.perf_counter() - began:.0f} s",
              flush=True)
    return url, helpers


def load_households(conn: psycopg.Connection, areas: list[str], form_version: int,
                    submitter: int, rng: random.Random) -> None:
    """One household per entry of ``areas``, with its people, its seed submission and one
    survey (as bench_console loads a county)."""
    people = People(SEED)
    now = datetime.now(UTC).isoformat()
    empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    next_id = {table: conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
               for table in ("submissions", "persons", "survey_versions")}
    rows: dict[str, list] = {name: [] for name in ("households", "submissions", "persons",
                                                   "surveys", "links")}
    for area in areas:
        size = rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_SIZE_WEIGHTS)[0]
        household = people.household(size, area, duplicates=False)
        submission, survey = next_id["submissions"], next_id["survey_versions"]
        values = json.dumps({"a3_monitoring_type": "02",
                             "a28_wages": str(rng.randint(5000, 18000)),
                             "phone": household.phone})
        rows["households"].append((household.id, area, household.phone, size, "02", "", now,
                                   now))
        rows["submissions"].append((submission, f"bench-manifest:{household.id}", form_version,
                                    submitter, "", empty_sha, now, "t", "applied", "[]",
                                    household.id, now))
        head = next_id["persons"]
        for member in household.members:
            rows["persons"].append((next_id["persons"], member.id_number, member.name,
                                    member.sex, member.birth.isoformat(), household.id,
                                    member.relation, "f", submission, submission))
            next_id["persons"] += 1
        rows["surveys"].append((survey, household.id, 1, submission, "household", "2026-03-10",
                                values, "[]", size, "f", "8000.00", "4000.00", "{}", "[]", now))
        rows["links"].append((household.id, head, survey, submission))
        next_id["submissions"] += 1
        next_id["survey_versions"] += 1
    with conn.transaction(), conn.cursor() as cur:
        _copy(cur, "households", "id, area_code, phone, size, monitoring_type, "
              "numbered_risks, created_at, updated_at", _tsv(rows["households"]))
        _copy(cur, "submissions", "id, instance_id, form_version_id, submitter_id, xml, "
              "xml_sha256, received_at, complete, state, problems, household_id, applied_at",
              _tsv(rows["submissions"]))
        _copy(cur, "persons", "id, id_number, name, sex, birth_date, household_id, relation, "
              "deceased, created_by_submission_id, updated_by_submission_id",
              _tsv(rows["persons"]))
        _copy(cur, "survey_versions", "id, household_id, number, submission_id, form_id, "
              "visit_date, household_values, member_values, size, a26_member_uninsured, "
              "a33_net_income, a34_net_income_per_capita, phone_differs, warnings, created_at",
              _tsv(rows["surveys"]))
        cur.execute("CREATE TEMP TABLE bench_links (household_id varchar(36) PRIMARY KEY, "
                    "head integer, survey integer, submission integer) ON COMMIT DROP")
        _copy(cur, "bench_links", "household_id, head, survey, submission", _tsv(rows["links"]))
        cur.execute("UPDATE households h SET head_person_id = l.head, latest_survey_id = "
                    "l.survey, created_by_submission_id = l.submission, "
                    "updated_by_submission_id = l.submission "
                    "FROM bench_links l WHERE h.id = l.household_id")


def to_head(url: str) -> None:
    """Migrate to head; every household changed once (the triggers count it) and folded; then
    200 changes in the township left for the next fold."""
    upgrade(url)
    from server.lists.services import fold

    engine = make_engine(url)
    with sa.orm.Session(engine) as session, session.begin():
        session.execute(sa.text("UPDATE households SET updated_at = updated_at"))
    with sa.orm.Session(engine) as session, session.begin():
        fold(session)
    with sa.orm.Session(engine) as session, session.begin():
        session.execute(sa.text(
            "UPDATE households SET updated_at = updated_at WHERE id IN (SELECT id FROM "
            "households WHERE area_code LIKE :township ORDER BY id LIMIT 200)"),
            {"township": TOWNSHIP + "%"})
        rows = session.execute(sa.text("SELECT count(*) FROM list_versions")).scalar()
        pending = session.execute(sa.text("SELECT count(*) FROM list_changes")).scalar()
    engine.dispose()
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE list_versions")
        conn.execute("VACUUM ANALYZE list_changes")
    print(f"  migrated to head: {rows} counter rows, {pending} changes pending", flush=True)


# --- the server -------------------------------------------------------------------------------


class Server:
    """gunicorn serving ``wsgi:app`` of the code in ``root``, on a free port of 127.0.0.1."""

    ARGS = ["--workers", "2", "--threads", "8", "--worker-class", "gthread", "--keep-alive",
            "5", "--graceful-timeout", "5", "--log-level", "warning"]

    def __init__(self, root: Path, env: dict[str, str], log: Path):
        self.port = free_port()
        self._log = open(log, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{self.port}",
             *self.ARGS],
            cwd=root, env={**os.environ, **env, "PYTHONPATH": str(root)}, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {log}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200 and len(children(self.proc.pid)) == 2:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer: see {log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(parent: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(_stat(int(entry.name))[1]) == parent:
                    found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = _stat(pid)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster(url: str) -> int:
    with psycopg.connect(_dsn(url)) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    return int(_stat(backend)[1])


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    households: int
    timings: list[float] = field(default_factory=list)  # ms
    seconds: float = 0.0
    cpu_ms: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.timings)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Client:
    """One keep-alive connection, HTTP Basic as the helper (http.client: a light client, so
    that the measured machine's CPU goes to the server)."""

    def __init__(self, port: int, helper: Helper):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        credentials = base64.b64encode(f"{helper.username}:{PASSWORD}".encode()).decode()
        self.headers = {"Authorization": f"Basic {credentials}", "X-OpenRosa-Version": "1.0"}

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):  # the server closed an idle connection
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
        return response.status, response.read()


def measure(port: int, helper: Helper, n: int, label: str, pids,
            form_list: bool = False) -> Result:
    """``n`` manifest requests of ``helper`` from CONCURRENCY threads; every answer must be 200
    and list households.csv. With ``form_list``, formList requests instead: what any OpenRosa
    request of the same user costs here (the password check, the session, the answer)."""
    clients = [Client(port, helper) for _ in range(CONCURRENCY)]
    forms = clients[0].get("/formList")[1].decode()
    version = forms.split(f"/forms/{FORM}/versions/", 1)[1].split("/", 1)[0]
    path = "/formList" if form_list else f"/forms/{FORM}/versions/{version}/manifest"
    # Warm-up: connections, the password check, caches, and gunicorn's workers after a start
    # (the first size measured was the slowest in most runs with one request per client).
    for _ in range(WARM_UP):
        for client in clients:
            status, body = client.get(path)
            assert status == 200 and (form_list or b"households.csv" in body), body
    result = Result(label, helper.households)
    counter = iter(range(n))
    lock = threading.Lock()
    failures: list[str] = []

    def work(client: Client) -> None:
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            began = time.perf_counter()
            status, body = client.get(path)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                if status != 200:
                    failures.append(f"{status} {body[:200]!r}")
                result.timings.append(elapsed)

    cpu = cpu_seconds(pids())
    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    result.cpu_ms = (cpu_seconds(pids()) - cpu) * 1000 / n
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[0]}")
    return result


def run(root: Path, url: str, helpers: list[Helper], counts: dict[int, int], label: str,
        work: Path) -> list[Result]:
    server = Server(root, {"DATABASE_URL": url, "MEDIA_STORE": str(work / "media"),
                           "SECRET_KEY": uuid.uuid4().hex}, work / f"gunicorn-{label}.log")
    master = postmaster(url)
    try:
        def pids() -> list[int]:
            return children(server.proc.pid) + [master, *children(master)]

        results = []
        for helper in helpers:
            result = measure(server.port, helper,
                             counts[helper.households], label, pids)
            print(f"  {label:<6} {helper.households:>7,} households: "
                  f"p50 {result.percentile(50):7.1f} ms  p99 {result.percentile(99):7.1f} ms  "
                  f"{len(result.timings) / result.seconds:7.1f} req/s  "
                  f"CPU {result.cpu_ms:6.2f} ms/request", flush=True)
            results.append(result)
        reference = measure(server.port, helpers[0], counts[helpers[0].households], label,
                            pids, form_list=True)
        print(f"  {label:<6} formList (the same user, for reference): "
              f"p50 {reference.percentile(50):7.1f} ms  p99 {reference.percentile(99):7.1f} ms  "
              f"{len(reference.timings) / reference.seconds:7.1f} req/s  "
              f"CPU {reference.cpu_ms:6.2f} ms/request", flush=True)
        return results
    finally:
        server.stop()


def archive(ref: str, target: Path) -> Path:
    """The code of ``ref`` (``git archive``), to run the manifest as it was."""
    target.mkdir()
    tar = subprocess.run(["git", "-C", str(PROJECT_ROOT), "archive", ref], check=True,
                         capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=tar, check=True)
    return target


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--n", type=int, default=2000,
                        help="manifest requests per size after the change (default 2000)")
    parser.add_argument("--sizes", default="500,2000,20000",
                        help="households of the small village, the large one, the township")
    parser.add_argument("--before", metavar="REF",
                        help="also measure the code of REF (a commit before the change)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = tuple(int(size) for size in args.sizes.split(","))
    n = 300 if args.quick else args.n
    # before: each request builds the whole list (~0.13 ms of CPU per household)
    before_counts = {size: max(16, min(n, int(n * 500 / size) // (4 if args.quick else 2)))
                     for size in sizes}
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fangpin-bench-")))
        print("starting PostgreSQL and loading…", flush=True)
        server_url = stack.enter_context(running_postgres(durable=True))
        url, helpers = prepare(server_url, sizes, before=bool(args.before))
        pg = subprocess.run(["postgres", "--version"], capture_output=True,
                            text=True).stdout.strip()
        print("=" * 78)
        print("fangpin manifest benchmark (issue 16): a form's manifest listing households.csv")
        print(f"machine: nproc={len(os.sched_getaffinity(0))}, {platform.machine()}, Python "
              f"{platform.python_version()}, {pg or 'postgres'}, fsync on")
        print(f"server: gunicorn {' '.join(Server.ARGS)}; client: {CONCURRENCY} threads, "
              "keep-alive, HTTP Basic")
        print("=" * 78, flush=True)
        results: dict[str, list[Result]] = {}
        if args.before:
            old = archive(args.before, work / "before")
            results["before"] = run(old, url, helpers, before_counts, "before", work)
            to_head(url)
        else:
            to_head(url)
        results["after"] = run(PROJECT_ROOT, url, helpers, {size: n for size in sizes},
                               "after", work)
    print("=" * 78)
    print(f"{'':8}{'households':>11} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'req/s':>8} {'CPU ms/req':>11}")
    for label, found in results.items():
        for result in found:
            print(f"{label:<8}{result.households:>11,} {len(result.timings):>9} "
                  f"{result.percentile(50):8.1f} {result.percentile(99):8.1f} "
                  f"{len(result.timings) / result.seconds:8.1f} {result.cpu_ms:11.2f}")
    largest = max(results["after"], key=lambda r: r.households)
    ok = largest.percentile(99) < TARGET_P99_MS
    print(f"target: p99 < {TARGET_P99_MS:.0f} ms at {largest.households:,} households: "
          f"{'met' if ok else 'NOT met'} ({largest.percentile(99):.1f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
