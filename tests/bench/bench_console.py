"""Benchmark of the console's pages at a county's scale (issue 13): 250 000 households and
20 000 open cases; the queue page, a case page and a household page under 150 ms at p95, the
dashboard under 500 ms.

Run from the project root (``make bench-console``):

    .venv/bin/python -m tests.bench.bench_console [--quick] [--n N] [--households N]
        [--open-cases N] [--console-only | --api-only]

What it does:

1. a throwaway PostgreSQL (``running_postgres(durable=True)``), one database migrated and seeded
   by the project's own code (tests.support.seed: 衡阳县's 491 villages, a user of each role);
2. the county's registry loaded with COPY: 250 000 households (``--quick``: 25 000) of 1–6
   people with valid ID numbers (bench_registry's generator) in every village of 430421, each
   with a survey (A3 type, risks, A34); 60 000 identifications approved over the last two years
   (monitoring objects, with their contacts and events), 15 000 of them later eliminated;
   20 000 open cases (``--quick``: 2 000), identifications and eliminations at every step,
   with their events; evaluations for half the monitoring objects; the demo's example step
   deadlines (so that "overdue" is a real condition); then VACUUM ANALYZE;
3. the app under gunicorn (``wsgi:app``, 2 workers × 8 threads, as ``make run``), one client
   over keep-alive HTTP: the console with a county user's session (logged in through the login
   form), the REST API with the same user's Basic credentials;
4. for each page, a warm-up, then N sequential requests (``--n``, default 200) on random cases
   and households; every answer must be 200; p50, p95 and max against the targets. The
   dashboard twice: as served (its counts kept while nothing changes, COUNTS_CACHE_SECONDS),
   and from a second server that counts afresh at every request (N/4 requests), as when cases
   move all day long; before that, each of its queries in-process.

The pages: 工作台 (``/console/``, the queues per step) and the case list, filtered like a queue
(``/console/cases?…``), a case page, a household page, the dashboard. The case and household
pages and the case list are other slices of issue 13: until they exist (a 404) they are
skipped, and their REST equivalents are measured as stand-ins — ``/api/v1/cases?status=open&
step=…`` (a page of 50 and its total), ``/api/v1/cases/<id>`` with ``/events``,
``/api/v1/households/<id>``. Run it again once they are merged: it takes whatever answers.

The client runs on the same machine as the server and PostgreSQL: the figures include its CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import requests
import sqlalchemy as sa
import sqlalchemy.orm

from server.accounts.models import User
from server.config import PROJECT_ROOT
from server.db import make_engine
from server.demo_story import DEADLINE_DOCUMENT, DEMO_DEADLINES
from server.domain.deadlines import StepDeadline
from server.domain.notices import numbered_risks
from server.domain.pipeline import STEPS, Procedure, Step
from server.figures.services import set_step_deadline
from server.households.models import risk_text
from server.migrate import upgrade
from tests.bench.bench_registry import GeneratedHousehold, People, _copy, _dsn, _tsv
from tests.bench.bench_submissions import Gunicorn, GunicornSettings
from tests.support.postgres import running_postgres
from tests.support.seed import COUNTY, PASSWORD, seed

SEED = 20261205
TARGET_MS = 150.0
DASHBOARD_TARGET_MS = 500.0
CHUNK = 25_000  # households per COPY transaction
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_SIZE_WEIGHTS = (12, 20, 24, 22, 13, 9)
RISKS = ("01", "02", "03", "05", "07", "08", "01 07", "01 08", "02 07")
LINE = Decimal("6500")  # Hunan's monitoring line (the bundled yearly figures)


@dataclass
class Scale:
    households: int
    open_cases: int
    identified: int
    eliminated: int

    @classmethod
    def of(cls, households: int, open_cases: int) -> Scale:
        """60 000 identified and 15 000 of them eliminated at 250 000 households, in proportion
        at other sizes."""
        return cls(households, open_cases, households * 6 // 25, households * 3 // 50)


@dataclass
class Loaded:
    households: list[str] = field(default_factory=list)
    open_cases: list[int] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)  # open cases by step


# --- the registry -----------------------------------------------------------------------------


def _survey_values(rng: random.Random, kind: str) -> tuple[str, str, str]:
    """(household_values JSON, A34, numbered risks) of a generated survey."""
    per_capita = rng.randint(2500, 9000)
    values = {"a3_monitoring_type": kind, "a4_formerly_poor": "01" if kind == "01" else "02",
              "a23_housing_unsafe": "01" if rng.random() < 0.05 else "02",
              "a24_school_dropout": "02", "a25_water_unsafe": "02",
              "a27_risk_types": rng.choice(RISKS), "a28_wages": str(per_capita * 2)}
    risks = risk_text(numbered_risks(values, member_uninsured=False,
                                     below_line=per_capita < LINE))
    return json.dumps(values, ensure_ascii=False), f"{per_capita}.00", risks


def load_households(conn: psycopg.Connection, scale: Scale, areas: list[str], form_version: int,
                    helper: int, rng: random.Random) -> list[tuple[str, str]]:
    """The registry: households with their people and one survey each; (id, area) of each."""
    people = People(SEED)
    made: list[tuple[str, str]] = []
    now = datetime.now(UTC).isoformat()
    empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    next_id = {table: conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
               for table in ("submissions", "persons", "survey_versions")}
    while len(made) < scale.households:
        count = min(CHUNK, scale.households - len(made))
        rows: dict[str, list] = {name: [] for name in ("households", "submissions", "persons",
                                                       "surveys", "links")}
        for _ in range(count):
            size = rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_SIZE_WEIGHTS)[0]
            household: GeneratedHousehold = people.household(size, rng.choice(areas),
                                                             duplicates=False)
            kind = rng.choice(("01", "02", "02", "03"))
            values, a34, risks = _survey_values(rng, kind)
            submission, survey = next_id["submissions"], next_id["survey_versions"]
            rows["households"].append((household.id, household.area, household.phone,
                                       len(household.members), kind, risks, now, now))
            rows["submissions"].append((submission, f"bench-console:{household.id}",
                                        form_version, helper, "", empty_sha, now, "t", "applied",
                                        "[]", household.id, now))
            head = next_id["persons"]
            for member in household.members:
                rows["persons"].append((next_id["persons"], member.id_number, member.name,
                                        member.sex, member.birth.isoformat(), household.id,
                                        member.relation, "f", submission, submission))
                next_id["persons"] += 1
            rows["surveys"].append((survey, household.id, 1, submission, "household",
                                    "2026-03-10", values, "[]", len(household.members), "f",
                                    a34, a34, "{}", "[]", now))
            rows["links"].append((household.id, head, survey, submission))
            next_id["submissions"] += 1
            next_id["survey_versions"] += 1
            made.append((household.id, household.area))
        with conn.transaction(), conn.cursor() as cur:
            _copy(cur, "households", "id, area_code, phone, size, monitoring_type, "
                  "numbered_risks, created_at, updated_at", _tsv(rows["households"]))
            _copy(cur, "submissions", "id, instance_id, form_version_id, submitter_id, xml, "
                  "xml_sha256, received_at, complete, state, problems, household_id, "
                  "applied_at", _tsv(rows["submissions"]))
            _copy(cur, "persons", "id, id_number, name, sex, birth_date, household_id, "
                  "relation, deceased, created_by_submission_id, updated_by_submission_id",
                  _tsv(rows["persons"]))
            _copy(cur, "survey_versions", "id, household_id, number, submission_id, form_id, "
                  "visit_date, household_values, member_values, size, a26_member_uninsured, "
                  "a33_net_income, a34_net_income_per_capita, phone_differs, warnings, "
                  "created_at", _tsv(rows["surveys"]))
            cur.execute("CREATE TEMP TABLE bench_links (household_id varchar(36) PRIMARY KEY, "
                        "head integer, survey integer, submission integer) ON COMMIT DROP")
            _copy(cur, "bench_links", "household_id, head, survey, submission",
                  _tsv(rows["links"]))
            cur.execute(
                "UPDATE households h SET head_person_id = l.head, latest_survey_id = l.survey, "
                "created_by_submission_id = l.submission, "
                "updated_by_submission_id = l.submission "
                "FROM bench_links l WHERE h.id = l.household_id")
        print(f"  {len(made):>9,} households", flush=True)
    return made


# --- cases ------------------------------------------------------------------------------------


@dataclass
class CaseRows:
    cases: list = field(default_factory=list)
    events: list = field(default_factory=list)
    next_case: int = 1
    next_event: int = 1

    def add(self, procedure: Procedure, step: Step, status: str, household: tuple[str, str],
            opened: datetime, entered: datetime, closed: datetime | None, user: int) -> int:
        case_id = self.next_case
        self.next_case += 1
        self.cases.append((case_id, procedure.value, step.value, status, "02", household[1],
                           household[0], opened.isoformat(), entered.isoformat(),
                           closed.isoformat() if closed else None,
                           closed.date().isoformat() if closed and procedure is
                           Procedure.ELIMINATION else None))
        steps = STEPS[procedure]
        reached = steps.index(step) + (1 if status == "done" else 0)
        span = (entered - opened) / max(reached, 1)
        self._event(case_id, opened, user, "open", None, steps[0], "open")
        for index in range(reached):
            after = steps[index + 1] if index + 1 < len(steps) else steps[index]
            moved_status = "done" if index + 1 == len(steps) else "open"
            self._event(case_id, opened + span * (index + 1), user, "approve", steps[index],
                        after, moved_status)
        return case_id

    def _event(self, case_id: int, at: datetime, user: int, action: str, from_step, to_step,
               status: str) -> None:
        self.events.append((self.next_event, case_id, at.isoformat(), user, action,
                            from_step.value if from_step else None, to_step.value, status,
                            "同意", "[]", "[]"))
        self.next_event += 1


def load_cases(conn: psycopg.Connection, scale: Scale, households: list[tuple[str, str]],
               user: int, rng: random.Random) -> Loaded:
    """Approved identifications (some later eliminated) and the open cases, with events,
    contacts and evaluations."""
    now = datetime.now(UTC)
    picked = rng.sample(range(len(households)), scale.identified + scale.open_cases)
    identified = picked[:scale.identified]
    rows = CaseRows()
    contacts, evaluations = [], []
    loaded = Loaded()
    monitored = []
    for n, index in enumerate(identified):
        household = households[index]
        closed = now - timedelta(days=rng.uniform(30, 730))
        rows.add(Procedure.IDENTIFICATION, Step.COUNTY_APPROVAL, "done", household,
                 closed - timedelta(days=rng.uniform(20, 60)), closed, closed, user)
        contacts.append((household[0], "刘强", "县乡村振兴局", "干部", closed.isoformat()))
        if n < scale.eliminated:
            gone = min(now - timedelta(days=1), closed + timedelta(days=rng.uniform(200, 500)))
            rows.add(Procedure.ELIMINATION, Step.COUNTY_APPROVAL, "done", household,
                     gone - timedelta(days=rng.uniform(20, 40)), gone, gone, user)
        else:
            monitored.append(index)
    open_elimination = min(len(monitored), scale.open_cases * 3 // 10)
    targets = ([(households[i], Procedure.ELIMINATION) for i in monitored[:open_elimination]]
               + [(households[i], Procedure.IDENTIFICATION)
                  for i in picked[scale.identified:][:scale.open_cases - open_elimination]])
    for household, procedure in targets:
        step = rng.choice(STEPS[procedure])
        entered = now - timedelta(days=rng.uniform(0, 40))
        opened = entered - timedelta(days=rng.uniform(0, 30))
        loaded.open_cases.append(rows.add(procedure, step, "open", household, opened, entered,
                                          None, user))
        loaded.steps[step.value] = loaded.steps.get(step.value, 0) + 1
    quarter_start = date(now.year, 3 * ((now.month - 1) // 3) + 1, 1)
    for n, index in enumerate(monitored):
        if n % 2 == 0:
            day = quarter_start - timedelta(days=rng.randint(5, 80))
            evaluations.append((households[index][0], day.isoformat(), "县乡村振兴局", "收入稳定",
                                now.isoformat()))
    with conn.transaction(), conn.cursor() as cur:
        _copy(cur, "cases", "id, procedure, step, status, origin, area_code, household_id, "
              "opened_at, step_entered_at, closed_at, decided_on", _tsv(rows.cases))
        _copy(cur, "case_events", "id, case_id, at, user_id, action, from_step, to_step, "
              "status, opinion, signatures, attachments", _tsv(rows.events))
        _copy(cur, "monitoring_contacts", "household_id, name, unit, position, assigned_at",
              _tsv(contacts))
        _copy(cur, "assistance_evaluations", "household_id, evaluated_on, evaluator, result, "
              "recorded_at", _tsv(evaluations))
        for table in ("cases", "case_events"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
    print(f"  {len(rows.cases):,} cases ({len(loaded.open_cases):,} open), "
          f"{len(rows.events):,} events, {len(contacts):,} contacts, "
          f"{len(evaluations):,} evaluations", flush=True)
    loaded.households = [h for h, _ in households]
    return loaded


def prepare(server_url: str, scale: Scale, rng: random.Random) -> tuple[str, Loaded]:
    with psycopg.connect(_dsn(server_url, "postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE fangpin")
    url = sa.make_url(server_url).set(database="fangpin").render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    with sa.orm.Session(engine) as session, session.begin():
        seed(session, PROJECT_ROOT / "xlsforms")
        for procedure, step, days in DEMO_DEADLINES:
            set_step_deadline(session, StepDeadline(COUNTY[:2], procedure, step, days,
                                                    DEADLINE_DOCUMENT))
    engine.dispose()
    began = time.perf_counter()
    with psycopg.connect(_dsn(url)) as conn:
        areas = [row[0] for row in conn.execute(
            "SELECT code FROM areas WHERE code LIKE %s AND length(code) >= 12 ORDER BY code",
            [COUNTY + "%"])]
        form_version = conn.execute("SELECT id FROM form_versions WHERE form_id = 'household' "
                                    "ORDER BY id DESC LIMIT 1").fetchone()[0]
        helper, county = (conn.execute("SELECT id FROM users WHERE username = %s",
                                       [name]).fetchone()[0] for name in ("helper", "county"))
        conn.commit()
        conn.autocommit = True
        households = load_households(conn, scale, areas, form_version, helper, rng)
        for table in ("submissions", "persons", "survey_versions"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
        loaded = load_cases(conn, scale, households, county, rng)
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    print(f"  loaded in {time.perf_counter() - began:.0f} s", flush=True)
    return url, loaded


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Target:
    label: str
    urls: list[str]  # one is picked at random per request
    target_ms: float
    kind: str  # "console" or "api"
    timings: list[float] = field(default_factory=list)
    skipped: str = ""
    failures: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.timings)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def console_session(base: str, username: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/console/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = http.post(f"{base}/console/login", data={
        "csrf_token": token, "username": username, "password": PASSWORD},
        allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise RuntimeError(f"console login failed: {answer.status_code}")
    return http


def measure(target: Target, http: requests.Session, n: int, rng: random.Random,
            base: str) -> None:
    try:
        _measure(target, http, n, rng, base)
    except requests.RequestException as error:
        target.failures.append(f"{type(error).__name__}: {error}")


def _measure(target: Target, http: requests.Session, n: int, rng: random.Random,
             base: str) -> None:
    probe = http.get(base + target.urls[0], timeout=60)
    if probe.status_code == 404 and target.kind == "console":
        target.skipped = "not built yet (404)"
        return
    for _ in range(5):  # warm-up: connections, caches, the first plan
        http.get(base + rng.choice(target.urls), timeout=60)
    for _ in range(n):
        url = rng.choice(target.urls)
        began = time.perf_counter()
        answer = http.get(base + url, timeout=60)
        elapsed = (time.perf_counter() - began) * 1000
        if answer.status_code != 200:
            if len(target.failures) < 5:
                target.failures.append(f"{url}: {answer.status_code} {answer.text[:200]}")
            continue
        target.timings.append(elapsed)


def targets(loaded: Loaded, rng: random.Random, which: str) -> list[Target]:
    cases = rng.sample(loaded.open_cases, min(500, len(loaded.open_cases)))
    homes = rng.sample(loaded.households, 500)
    steps = [step for step, count in loaded.steps.items() if count]
    found = []
    if which in ("all", "console"):
        found += [
            Target("工作台 (queues per step)", ["/console/"], TARGET_MS, "console"),
            Target("工作台, a township user (with evaluations owed)", ["/console/"], TARGET_MS,
                   "console:township"),
            Target("工作台, a village user (with evaluations owed)", ["/console/"], TARGET_MS,
                   "console:village"),
            Target("case list, a queue (console)",
                   [f"/console/cases?status=open&step={step}" for step in steps],
                   TARGET_MS, "console"),
            Target("case page (console)", [f"/console/cases/{c}" for c in cases], TARGET_MS,
                   "console"),
            Target("household page (console)", [f"/console/households/{h}" for h in homes],
                   TARGET_MS, "console"),
            Target("dashboard (console, kept counts)", ["/console/dashboard"],
                   DASHBOARD_TARGET_MS, "console"),
        ]
    if which in ("all", "api"):
        found += [
            Target("case list, a queue (REST)",
                   [f"/api/v1/cases?status=open&step={step}&sort=step_entered_at&page_size=50"
                    for step in steps], TARGET_MS, "api"),
            Target("case (REST)", [f"/api/v1/cases/{c}" for c in cases], TARGET_MS, "api"),
            Target("case events (REST)", [f"/api/v1/cases/{c}/events" for c in cases],
                   TARGET_MS, "api"),
            Target("household (REST)", [f"/api/v1/households/{h}" for h in homes], TARGET_MS,
                   "api"),
        ]
    return found


def dashboard_breakdown(url: str, repeat: int = 5) -> list[tuple[str, float]]:
    """Each query of the dashboard's read service, in-process: the best of ``repeat`` (ms)."""
    from server.auth import Principal
    from server.clock import today
    from server.reports import queries

    engine = make_engine(url)
    timings = []
    try:
        with sa.orm.Session(engine) as session:
            county = Principal.of(session.scalar(sa.select(User).where(User.username == "county")))
            day = today()
            calls = {
                "households_by_area": lambda: queries.households_by_area(session, county, COUNTY,
                                                                         day),
                "open_cases": lambda: queries.open_cases(session, county, COUNTY, day),
                "per_month": lambda: queries.per_month(session, county, COUNTY, day),
                "counts (all of them)": lambda: queries.counts(session, county, day, {}),
            }
            for label, call in calls.items():
                best = float("inf")
                for _ in range(repeat):
                    began = time.perf_counter()
                    call()
                    best = min(best, (time.perf_counter() - began) * 1000)
                timings.append((label, best))
    finally:
        engine.dispose()
    return timings


def report(found: list[Target]) -> int:
    print(f"\n{'page':<34} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8} {'target':>8}  verdict")
    failed = 0
    for target in found:
        if target.skipped:
            print(f"{target.label:<34} {'—':>5}  skipped: {target.skipped}")
            continue
        if not target.timings:
            print(f"{target.label:<34} {0:>5}  FAILED: {target.failures[:1]}")
            failed += 1
            continue
        p95 = target.percentile(95)
        ok = p95 < target.target_ms and not target.failures
        failed += not ok
        print(f"{target.label:<34} {len(target.timings):>5} {target.percentile(50):>7.1f}  "
              f"{p95:>7.1f}  {max(target.timings):>7.1f}  {target.target_ms:>7.0f}  "
              f"{'MEETS' if ok else 'MISSES'} (ms, p95 < target)")
        for failure in target.failures:
            print(f"    FAILURE: {failure}")
    return failed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 25 000 households, 2 000 open cases, N=50")
    parser.add_argument("--n", type=int, help="requests per page (default 200)")
    parser.add_argument("--households", type=int, help="default 250 000")
    parser.add_argument("--open-cases", type=int, help="default 20 000")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--console-only", action="store_const", const="console", dest="which")
    only.add_argument("--api-only", action="store_const", const="api", dest="which")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    args.which = args.which or "all"
    args.n = args.n or (50 if args.quick else 200)
    args.households = args.households or (25_000 if args.quick else 250_000)
    args.open_cases = args.open_cases or (2_000 if args.quick else 20_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rng = random.Random(SEED)
    scale = Scale.of(args.households, args.open_cases)
    settings = GunicornSettings(args.workers, args.threads)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fangpin-bench-")))
        print("starting PostgreSQL and loading…", flush=True)
        server_url = stack.enter_context(running_postgres(durable=True))
        url, loaded = prepare(server_url, scale, rng)
        print("the dashboard's queries in-process (best of 5):")
        for label, ms in dashboard_breakdown(url):
            print(f"  {label:<34} {ms:8.1f} ms", flush=True)
        pg = subprocess.run(["postgres", "--version"], capture_output=True,
                            text=True).stdout.strip()
        print("=" * 78)
        print("fangpin console benchmark (issue 13): pages at a county's scale")
        print(f"machine: nproc={len(os.sched_getaffinity(0))}, {platform.machine()}, Python "
              f"{platform.python_version()}, {pg or 'postgres'}, fsync on")
        print(f"data: {scale.households:,} households in {COUNTY}, {scale.open_cases:,} open "
              f"cases, {scale.identified:,} identifications approved, {scale.eliminated:,} "
              f"eliminated; one client, {args.n} sequential requests per page, random ids")
        print(f"server: {settings.describe()}")
        print("=" * 78, flush=True)
        environment = {"DATABASE_URL": url, "MEDIA_STORE": str(work / "media"),
                       "SESSION_COOKIE_SECURE": "0", "SECRET_KEY": uuid.uuid4().hex}
        server = Gunicorn("console", "wsgi:app", settings, environment, work)
        stack.callback(server.stop)
        base = f"http://127.0.0.1:{server.port}"
        found = targets(loaded, rng, args.which)
        console = console_session(base, "county")
        api = requests.Session()
        api.auth = ("county", PASSWORD)
        clients = {"console": console, "api": api,
                   **{f"console:{name}": console_session(base, name)
                      for name in ("township", "village")}}
        for target in found:
            measure(target, clients[target.kind], args.n, rng, base)
            p95 = f"p95 {target.percentile(95):.1f} ms" if target.timings else \
                target.skipped or "failed"
            print(f"  measured {target.label}: {p95}", flush=True)
        server.stop()
        if args.which in ("all", "console"):
            # The dashboard when every request counts afresh (a county where cases move all
            # day long invalidates the kept counts at every action).
            fresh = Gunicorn("fresh", "wsgi:app", settings,
                             {**environment, "COUNTS_CACHE_SECONDS": "0"}, work)
            stack.callback(fresh.stop)
            base = f"http://127.0.0.1:{fresh.port}"
            target = Target("dashboard, counted afresh", ["/console/dashboard"],
                            DASHBOARD_TARGET_MS, "console")
            measure(target, console_session(base, "county"), max(20, args.n // 4), rng, base)
            found.append(target)
            if target.failures:
                print("fresh server's log:\n" + fresh.log_tail(20))
        failed = report(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
