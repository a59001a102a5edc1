"""Benchmark of the household registry (issue 5): ingest through HTTP as the registry grows,
and the bulk re-check of the whole registry for likely duplicates.

Run from the project root:

    .venv/bin/python -m tests.bench.bench_registry [--quick] [--n N] [--sizes 0,100000,1000000]
        [--concurrency 4,16]

What it does:

1. a throwaway PostgreSQL (``running_postgres(durable=True)``: fsync on), one database migrated
   and seeded by the project's own code (tests.support.seed: a helper in 430421107003);
2. registries of 0, 100 000 and 1 000 000 people (``--quick``: 0, 10 000, 50 000), loaded
   cumulatively with COPY: valid GB 11643 ID numbers (430421, born 1940–2020, unique sequence
   digits, check character), names from a pool of common surnames and given names, households
   of 1–6 people with one head each in the villages and groups of 430421107 that the ``areas``
   table holds, one minimal "seed" submission and one survey version per household, and a few
   deliberate near-duplicates (same name and birth date, sequence digits one apart);
3. at each size, the app under gunicorn (``wsgi:app``, bench_submissions' settings, restarted
   per size on the same database) takes N household surveys (XML only) at each concurrency:
   ~90 % new households of 3 new people, ~10 % re-surveys of a household already in the
   registry (an UPDATE); every answer must be 201, and afterwards every submission must be
   ``applied`` (re-surveys in the household they name) — the others are listed with their
   problems; it prints submissions/s, p50/p95/p99 and the CPU per submission;
4. the headline: rate at the smallest size / rate at the largest, against ≤ 1.5;
5. at the largest size, EXPLAIN (ANALYZE) of the queries ``take_in`` runs, and
   ``recheck_registry`` timed twice in-process (committed) against < 60 s (the second run must
   add no flags).

The client runs on the same machine as the server and PostgreSQL: absolute numbers include its
CPU; the ratio is the figure to watch.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from server.config import PROJECT_ROOT
from server.db import make_engine
from server.dedup.services import recheck_registry
from server.domain.idnumber import CHECK_CHARACTERS, WEIGHTS
from server.households.models import Household, Person, SurveyVersion
from server.migrate import upgrade
from tests.bench.bench_submissions import (
    Body,
    CpuMeter,
    Gunicorn,
    GunicornSettings,
    LoadResult,
    find_postmaster,
    measured_load,
    run_load,
    submission_body,
)
from tests.support.collect import form_instance
from tests.support.postgres import running_postgres
from tests.support.seed import TOWNSHIP, VILLAGE, seed

TARGET_RATIO = 1.5
TARGET_RECHECK_S = 60.0
SEED = 20261124
COUNTY_CODE = "430421"  # the area part of every generated ID number
VISIT = date(2021, 5, 12)  # the surveys' visit date (the year has a monitoring line)
RESURVEY_SHARE = 0.10
NEAR_DUPLICATE_SHARE = 0.002  # of non-head members: a near-duplicate of someone already loaded
CHUNK = 100_000  # people per COPY transaction

# Household-level answers as in tests/integration/test_registry.py (registry field names).
HOUSEHOLD_ANSWERS = {
    "visit_date": VISIT.isoformat(), "a4_formerly_poor": "02", "a23_housing_unsafe": "02",
    "a24_school_dropout": "02", "a25_water_unsafe": "02", "a27_risk_types": "01",
    "a28_wages": "12000", "a29_business_income": "3000", "a30_property_income": "0",
    "a31_transfer_income": "1500", "a32_business_expenses": "1000", "a35_insurance_claims": "0",
    "a36_compliant_out_of_pocket": "2000",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
MALE_CHARACTERS = "伟强磊军勇杰涛明超刚平辉建国志华斌鹏飞波宇浩峰林俊文龙海东亮成德正新永春金生"
FEMALE_CHARACTERS = "芳娜敏静丽艳娟霞秀玲桂英红梅兰琴燕萍慧婷雪琳晶倩颖洁玉凤花云莉丹萍香月"
GIVEN_NAMES_PER_SEX = 300
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_SIZE_WEIGHTS = (12, 20, 24, 22, 13, 9)


# --- generated people -------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    id_number: str
    name: str
    sex: str  # "1" male, "2" female (the parity of the 17th digit)
    birth: date
    relation: str


@dataclass
class GeneratedHousehold:
    id: str
    area: str
    phone: str
    members: list[Member]


def _given_names(characters: str, rng: random.Random) -> list[str]:
    singles = list(characters)
    pairs = [a + b for a in characters for b in characters if a != b]
    rng.shuffle(pairs)
    return singles + pairs[: GIVEN_NAMES_PER_SEX - len(singles)]


class People:
    """Valid, unique ID numbers and plausible households, fast (precomputed check sums).

    Every ID handed out (loaded or posted) is marked used, so loads and submissions never
    collide. ID = 430421 + birth date + 3 sequence digits (odd for men) + check character.
    """

    FIRST, LAST = date(1940, 1, 1), date(2020, 12, 31)

    def __init__(self, seed_value: int = SEED):
        self.rng = random.Random(seed_value)
        first = self.FIRST.toordinal()
        self.days = self.LAST.toordinal() - first + 1
        self.dates = [date.fromordinal(first + i) for i in range(self.days)]
        prefix = sum(int(c) * w for c, w in zip(COUNTY_CODE, WEIGHTS[:6], strict=True))
        self.texts = [d.strftime("%Y%m%d") for d in self.dates]
        self.date_sums = [
            prefix + sum(int(c) * w for c, w in zip(t, WEIGHTS[6:14], strict=True))
            for t in self.texts
        ]
        self.seq_sums = [
            sum(int(c) * w for c, w in zip(f"{s:03d}", WEIGHTS[14:17], strict=True))
            for s in range(1000)
        ]
        self.used = bytearray(self.days * 1000)
        self.year_start = {
            y: date(y, 1, 1).toordinal() - first for y in range(self.FIRST.year, 2022)
        }
        self.male_names = _given_names(MALE_CHARACTERS, self.rng)
        self.female_names = _given_names(FEMALE_CHARACTERS, self.rng)
        self.recent: list[tuple[int, int, str, bool]] = []  # (day, seq, name, male) sample
        self.near_duplicates = 0
        self.issued = 0

    def id_number(self, day: int, seq: int) -> str:
        body = f"{COUNTY_CODE}{self.texts[day]}{seq:03d}"
        return body + CHECK_CHARACTERS[(self.date_sums[day] + self.seq_sums[seq]) % 11]

    def _day(self, year_low: int, year_high: int) -> int:
        def clamp(year: int) -> int:
            return min(max(year, self.FIRST.year), self.LAST.year)

        low, high = self.year_start[clamp(year_low)], self.year_start[clamp(year_high) + 1]
        return self.rng.randrange(low, high)

    def _take(self, day: int, male: bool) -> int | None:
        for _ in range(64):
            seq = 2 * self.rng.randrange(500) + male
            key = day * 1000 + seq
            if not self.used[key]:
                self.used[key] = 1
                return seq
        return None

    def _name(self, surname: str, male: bool) -> str:
        return surname + self.rng.choice(self.male_names if male else self.female_names)

    def person(self, relation: str, surname: str, male: bool, year_low: int,
               year_high: int) -> Member:
        while True:
            day = self._day(year_low, year_high)
            seq = self._take(day, male)
            if seq is not None:
                break
        name = self._name(surname, male)
        self._remember(day, seq, name, male)
        self.issued += 1
        return Member(self.id_number(day, seq), name, "1" if male else "2", self.dates[day],
                      relation)

    def _remember(self, day: int, seq: int, name: str, male: bool) -> None:
        if len(self.recent) < 20_000:
            self.recent.append((day, seq, name, male))
        else:
            self.recent[self.rng.randrange(len(self.recent))] = (day, seq, name, male)

    def near_duplicate(self) -> Member | None:
        """Someone already issued again: same name and birth date, last sequence digit ±2."""
        if not self.recent:
            return None
        day, seq, name, male = self.rng.choice(self.recent)
        for other in (seq + 2, seq - 2) if seq % 10 < 8 else (seq - 2, seq + 2):
            if other // 10 != seq // 10 or self.used[day * 1000 + other]:
                continue
            self.used[day * 1000 + other] = 1
            self.near_duplicates += 1
            self.issued += 1
            return Member(self.id_number(day, other), name, "1" if male else "2",
                          self.dates[day], "99")
        return None

    def household(self, size: int, area: str, duplicates: bool = True) -> GeneratedHousehold:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        head_male = rng.random() < 0.85
        head_year = rng.randint(1940, 1995)
        head = self.person("01", surname, head_male, head_year, head_year)
        members = [head]
        family = surname if head_male else rng.choice(SURNAMES)
        if size >= 2:
            spouse_year = head_year + rng.randint(-5, 5)
            members.append(self.person("02", family if not head_male else rng.choice(SURNAMES),
                                       not head_male, spouse_year, spouse_year))
        while len(members) < size:
            twin = duplicates and rng.random() < NEAR_DUPLICATE_SHARE
            member = self.near_duplicate() if twin else None
            if member is None:
                male = rng.random() < 0.52
                year = rng.randint(min(head_year + 20, self.LAST.year),
                                   min(head_year + 38, self.LAST.year))
                member = self.person("03" if male else "04", family, male, year, year)
            members.append(member)
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        return GeneratedHousehold(str(uuid.UUID(int=rng.getrandbits(128), version=4)), area,
                                  phone, members)

    def households(self, people: int, areas: list[str]) -> list[GeneratedHousehold]:
        made, count = [], 0
        while count < people:
            size = self.rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_SIZE_WEIGHTS)[0]
            size = min(size, people - count)
            made.append(self.household(size, self.rng.choice(areas)))
            count += size
        return made


# --- database ---------------------------------------------------------------------------------


def _dsn(url: str, database: str | None = None) -> str:
    """A libpq URL (psycopg) for the server of a SQLAlchemy URL."""
    parsed = sa.make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@dataclass
class Setup:
    url: str  # SQLAlchemy URL of the app's database
    dsn: str  # the same, for psycopg
    token: str
    version: str
    form_version_id: int
    helper_id: int
    load_areas: list[str]  # villages and groups of 430421107: where loaded households live
    post_areas: list[str]  # groups of the helper's village: where posted households live


def prepare_database(server_url: str) -> Setup:
    with psycopg.connect(_dsn(server_url, "postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE fangpin")
    url = sa.make_url(server_url).set(database="fangpin").render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    with sa.orm.Session(engine) as session, session.begin():
        seeded = seed(session, PROJECT_ROOT / "xlsforms")
    engine.dispose()
    dsn = _dsn(url)
    with psycopg.connect(dsn) as conn:
        version = seeded.form_versions["household"]
        form_version_id = conn.execute(
            "SELECT id FROM form_versions WHERE form_id = 'household' AND version = %s",
            [version]).fetchone()[0]
        helper_id = conn.execute("SELECT id FROM users WHERE username = 'helper'").fetchone()[0]
        load_areas = [row[0] for row in conn.execute(
            "SELECT code FROM areas WHERE code LIKE %s AND length(code) >= 12 ORDER BY code",
            [TOWNSHIP + "%"])]
    post_areas = [a for a in load_areas if a.startswith(VILLAGE) and len(a) > len(VILLAGE)]
    return Setup(url, dsn, seeded.tokens["helper"], version, form_version_id, helper_id,
                 load_areas, post_areas or [VILLAGE])


def count_people(dsn: str) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM households)"
        ).fetchone()


def _tsv(rows) -> str:
    return "".join("\t".join(r"\N" if v is None else str(v) for v in row) + "\n" for row in rows)


def _copy(cursor: psycopg.Cursor, table: str, columns: str, text: str) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        step = 4 * 1024 * 1024
        for start in range(0, len(text), step):
            copy.write(text[start : start + step])


def _next_id(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]


def _load_chunk(conn: psycopg.Connection, setup: Setup,
                households: list[GeneratedHousehold]) -> None:
    now = datetime.now(UTC).isoformat()
    submission_id = _next_id(conn, "submissions")
    person_id = _next_id(conn, "persons")
    survey_id = _next_id(conn, "survey_versions")
    empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    house_rows, submission_rows, person_rows, survey_rows, link_rows = [], [], [], [], []
    for household in households:
        house_rows.append((household.id, household.area, household.phone,
                           len(household.members), now, now))
        # one minimal submission per household: survey_versions.submission_id is UNIQUE
        submission_rows.append((submission_id, f"bench-seed:{household.id}",
                                setup.form_version_id, setup.helper_id, "", empty_sha, now, "t",
                                "applied", "[]", household.id, now))
        head_id = person_id
        for member in household.members:
            person_rows.append((person_id, member.id_number, member.name, member.sex,
                                member.birth.isoformat(), household.id, member.relation, "f",
                                submission_id, submission_id))
            person_id += 1
        survey_rows.append((survey_id, household.id, 1, submission_id, "household",
                            VISIT.isoformat(), "{}", "[]", len(household.members), "f", "{}",
                            "[]", now))
        link_rows.append((household.id, head_id, survey_id, submission_id))
        submission_id += 1
        survey_id += 1
    with conn.transaction(), conn.cursor() as cur:
        # households ↔ persons / survey_versions refer to each other: households first,
        # their head and latest survey set once those exist (every foreign key checked).
        _copy(cur, "households", "id, area_code, phone, size, created_at, updated_at",
              _tsv(house_rows))
        _copy(cur, "submissions", "id, instance_id, form_version_id, submitter_id, xml, "
              "xml_sha256, received_at, complete, state, problems, household_id, applied_at",
              _tsv(submission_rows))
        _copy(cur, "persons", "id, id_number, name, sex, birth_date, household_id, relation, "
              "deceased, created_by_submission_id, updated_by_submission_id", _tsv(person_rows))
        _copy(cur, "survey_versions", "id, household_id, number, submission_id, form_id, "
              "visit_date, household_values, member_values, size, a26_member_uninsured, "
              "phone_differs, warnings, created_at", _tsv(survey_rows))
        cur.execute("CREATE TEMP TABLE bench_links (household_id varchar(36) PRIMARY KEY, "
                    "head integer, survey integer, submission integer) ON COMMIT DROP")
        _copy(cur, "bench_links", "household_id, head, survey, submission", _tsv(link_rows))
        cur.execute(
            "UPDATE households h SET head_person_id = l.head, latest_survey_id = l.survey, "
            "created_by_submission_id = l.submission, updated_by_submission_id = l.submission "
            "FROM bench_links l WHERE h.id = l.household_id")


def load_registry(setup: Setup, people: People, target: int) -> dict:
    """Add generated households until the registry holds ``target`` people."""
    before, _ = count_people(setup.dsn)
    need = target - before
    began = time.perf_counter()
    generate_s = 0.0
    added = 0
    with psycopg.connect(setup.dsn, autocommit=True) as conn:  # one transaction per chunk
        while added < need:
            step = min(CHUNK, need - added)
            t0 = time.perf_counter()
            households = people.households(step, setup.load_areas)
            generate_s += time.perf_counter() - t0
            _load_chunk(conn, setup, households)
            added += step
            print(f"  loaded {before + added:>9,} people "
                  f"({time.perf_counter() - began:6.1f} s)", flush=True)
        for table in ("submissions", "persons", "survey_versions"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
    copy_s = time.perf_counter() - began
    settle(setup)
    return {"added": max(need, 0), "seconds": time.perf_counter() - began,
            "copy_s": copy_s, "generate_s": generate_s}


def settle(setup: Setup) -> None:
    """Fresh statistics, no dead rows, no checkpoint due: the same start for every size."""
    with psycopg.connect(setup.dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE households, persons, survey_versions, submissions")
        conn.execute("CHECKPOINT")


def table_sizes(dsn: str) -> list[tuple[str, int, int, int, int]]:
    """(table, rows, heap bytes, index bytes, total bytes incl. TOAST) of every table of the
    public schema over 1 MiB or among the registry's main tables, largest first."""
    main = ("households", "persons", "survey_versions", "submissions")
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT c.relname, pg_relation_size(c.oid), pg_indexes_size(c.oid), "
            "pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
            "AND (pg_total_relation_size(c.oid) > 1048576 OR c.relname = ANY(%s)) "
            "ORDER BY pg_total_relation_size(c.oid) DESC", [list(main)]).fetchall()
        return [(name, conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0],
                 heap, index, total) for name, heap, index, total in found]


def print_table_sizes(dsn: str) -> None:
    """The database's size at this registry size: what docs/scaling.md quotes per person."""
    sizes = table_sizes(dsn)
    people, households = count_people(dsn)
    with psycopg.connect(dsn) as conn:
        database = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    mib = 1024 * 1024
    print(f"  table sizes ({people:,} people, {households:,} households; "
          f"database {database / mib:,.1f} MiB):")
    print(f"    {'table':<22} {'rows':>11} {'heap MiB':>9} {'idx MiB':>9} {'total MiB':>10} "
          f"{'B/row':>6}")
    for name, rows, heap, index, total in sizes:
        print(f"    {name:<22} {rows:>11,} {heap / mib:>9.1f} {index / mib:>9.1f} "
              f"{total / mib:>10.1f} {total / rows if rows else 0:>6.0f}")
    if people:
        total = sum(t for *_, t in sizes)
        print(f"    all listed tables {total / mib:,.1f} MiB = {total / people:,.0f} B per "
              f"person, {total / max(households, 1):,.0f} B per household; database "
              f"{database / people:,.0f} B per person", flush=True)


# --- submissions ------------------------------------------------------------------------------


def _labour_skill(birth: date) -> str:
    age = VISIT.year - birth.year - ((VISIT.month, VISIT.day) < (birth.month, birth.day))
    return "04" if age < 16 else "01" if age <= 60 else "05"


def survey_xml(version: str, members: list[Member], area: str, phone: str,
               instance_id: str, resurveys: str | None = None) -> bytes:
    """A household survey; ``resurveys`` makes it the form's re-survey of that household
    (``resurvey`` = 是, the household picked, the entity updated), else a new household."""
    address = {"addr_county": area[:6], "addr_township": area[:9], "addr_village": area[:12]}
    if len(area) > 12:
        address["addr_group"] = area
    household = {**HOUSEHOLD_ANSWERS, **address, "phone": phone}
    if resurveys:
        household = {"resurvey": "01", "household": resurveys, **household}
    roster = [{"a5_name": m.name, "a7_id_number": m.id_number, "a8_relation": m.relation,
               "a14_labour_skill": _labour_skill(m.birth), "a17_basic_medical_insurance": "01"}
              for m in members]
    return form_instance("household", version, household, roster, instance_id, resurveys)


@dataclass
class Batch:
    bodies: list[Body]
    instance_ids: list[str]
    resurveys: dict[str, str] = field(default_factory=dict)  # instance_id → household id


def registry_households(dsn: str, count: int, exclude: set[str],
                        within: str = "") -> list[GeneratedHousehold]:
    """``count`` random households of the registry with their people (head first), living in
    the area ``within`` (a code prefix: the helper may only re-survey households of theirs)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT h.id, h.area_code, coalesce(h.phone, '13800000000'), p.id_number, p.name, "
            "p.sex, p.birth_date, p.relation FROM (SELECT id, area_code, phone FROM households "
            "WHERE latest_survey_id IS NOT NULL AND NOT (id = ANY(%s)) AND area_code LIKE %s "
            "ORDER BY random() LIMIT %s) h JOIN persons p ON p.household_id = h.id "
            "ORDER BY h.id, p.relation <> '01', p.id",
            [list(exclude), within + "%", count]).fetchall()
    found: dict[str, GeneratedHousehold] = {}
    for hid, area, phone, id_number, name, sex, birth, relation in rows:
        household = found.setdefault(hid, GeneratedHousehold(hid, area, phone, []))
        household.members.append(Member(id_number, name, sex, birth, relation))
    return list(found.values())


def build_batch(setup: Setup, people: People, count: int, existing: list[GeneratedHousehold],
                rng: random.Random) -> Batch:
    """``count`` bodies: new households of 3 new people, and one re-survey per ``existing``."""
    batch = Batch([], [])
    items: list[tuple[GeneratedHousehold, str | None]] = [(h, h.id) for h in existing]
    while len(items) < count:
        household = people.household(3, rng.choice(setup.post_areas), duplicates=False)
        items.append((household, None))
    rng.shuffle(items)
    for household, existing_id in items:
        instance_id = f"uuid:{uuid.uuid4()}"
        xml = survey_xml(setup.version, household.members, household.area, household.phone,
                         instance_id, existing_id)
        batch.bodies.append(submission_body(xml))
        batch.instance_ids.append(instance_id)
        if existing_id:
            batch.resurveys[instance_id] = existing_id
    return batch


@dataclass
class Outcome:
    states: Counter
    problems: list[str]
    misplaced: int  # re-surveys that did not land in the household they re-survey
    updates: int  # re-surveys applied as a second (or later) survey version


def check_outcome(dsn: str, batch: Batch) -> Outcome:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT s.instance_id, s.state, s.household_id, s.problems::text, v.number "
            "FROM submissions s LEFT JOIN survey_versions v ON v.submission_id = s.id "
            "WHERE s.instance_id = ANY(%s)", [batch.instance_ids]).fetchall()
    states: Counter = Counter()
    problems, misplaced, updates = [], 0, 0
    seen = set()
    for instance_id, state, household_id, problem_text, number in rows:
        seen.add(instance_id)
        states[state] += 1
        if state != "applied" and len(problems) < 5:
            problems.append(f"{instance_id} {state}: {problem_text[:300]}")
        expected = batch.resurveys.get(instance_id)
        if expected is not None and state == "applied":
            if household_id != expected:
                misplaced += 1
            elif number and number > 1:
                updates += 1
    missing = len(set(batch.instance_ids) - seen)
    if missing:
        states["(not stored)"] += missing
    return Outcome(states, problems, misplaced, updates)


# --- EXPLAIN ----------------------------------------------------------------------------------


def _sql(statement) -> str:
    return str(statement.compile(dialect=postgresql.dialect(),
                                 compile_kwargs={"literal_binds": True}))


def explain_apply_queries(setup: Setup) -> list[tuple[str, list[str]]]:
    """EXPLAIN (ANALYZE, BUFFERS) of what ``take_in`` runs, on a loaded household."""
    [household] = registry_households(setup.dsn, 1, set())
    ids = [m.id_number for m in household.members]
    member = household.members[-1]
    statements = [
        ("persons by id_number IN (...), in a household",
         select(Person.id_number, Person.household_id)
         .where(Person.id_number.in_(ids), Person.household_id.is_not(None))),
        ("household by id, FOR UPDATE",
         select(Household).where(Household.id == household.id).with_for_update()),
        ("persons by id_number IN (...)", select(Person).where(Person.id_number.in_(ids))),
        ("persons left off the roster",
         select(Person).where(Person.household_id == household.id,
                              Person.id_number.not_in(ids[:-1]))),
        ("head by id_number", select(Person).where(Person.id_number == ids[0])),
        ("survey max(number)",
         select(func.max(SurveyVersion.number))
         .where(SurveyVersion.household_id == household.id)),
        ("likely duplicates: name + birth date",
         select(Person.id_number, Person.name)
         .where(Person.name == member.name, Person.birth_date == member.birth,
                Person.id_number != member.id_number)),
    ]
    plans = []
    with psycopg.connect(setup.dsn) as conn:
        for label, statement in statements:
            rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + _sql(statement))
            plans.append((label, [row[0] for row in rows]))
        conn.rollback()
    return plans


# --- report -----------------------------------------------------------------------------------


@dataclass
class Measure:
    people: int
    concurrency: int
    result: LoadResult
    outcome: Outcome


def _row(m: Measure) -> str:
    r = m.result
    others = sum(n for state, n in m.outcome.states.items() if state != "applied")
    return (
        f"{m.people:>9,} {m.concurrency:>4} {r.rate:>7.1f} {r.percentile(50):>7.1f} "
        f"{r.percentile(95):>7.1f} {r.percentile(99):>7.1f} {len(r.failures):>4} "
        f"{others:>5} {m.outcome.updates:>4} {r.cpu_ms(0):>6.1f} {r.cpu_ms(1):>6.1f} "
        f"{r.cpu_ms(2):>5.1f}"
    )


TABLE_HEAD = (
    f"{'people':>9} {'conc':>4} {'subm/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'fail':>4} "
    f"{'!appl':>5} {'upd':>4} {'app':>6} {'pg':>6} {'clnt':>5}"
)


def header(args, settings: GunicornSettings) -> str:
    pg = subprocess.run(["postgres", "--version"], capture_output=True, text=True).stdout.strip()
    return "\n".join([
        "=" * 78,
        "fangpin registry benchmark (issue 5): ingest through HTTP as the registry grows",
        f"machine: nproc={len(os.sched_getaffinity(0))}, {platform.machine()}, "
        f"Python {platform.python_version()}, {pg or 'postgres'}, fsync on",
        f"sizes {', '.join(f'{s:,}' for s in args.sizes)} people; N={args.n} per level "
        f"(~{RESURVEY_SHARE:.0%} re-surveys of registry households, the rest new households "
        f"of 3); concurrency {args.concurrency}",
        f"server: {settings.describe()}, restarted per size",
        "columns: latency ms; fail = answers other than 201; !appl = submissions not 'applied';"
        " upd = re-surveys applied as a new survey version; CPU ms/subm: app, PostgreSQL, client",
        "=" * 78,
    ])


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 0, 10 000, 50 000 people; N=100; concurrency 4")
    parser.add_argument("--n", type=int, help="submissions per level (default 500)")
    parser.add_argument("--sizes", type=lambda s: [int(c) for c in s.split(",")],
                        help="registry sizes in people (default 0,100000,1000000)")
    parser.add_argument("--concurrency", type=lambda s: [int(c) for c in s.split(",")],
                        help="comma-separated levels (default 4,16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    args = parser.parse_args(argv)
    args.n = args.n or (100 if args.quick else 500)
    args.sizes = args.sizes or ([0, 10_000, 50_000] if args.quick else [0, 100_000, 1_000_000])
    args.concurrency = args.concurrency or ([4] if args.quick else [4, 16])
    return args


def measure_size(args, setup: Setup, people: People, settings: GunicornSettings,
                 meter: CpuMeter, work: Path, rng: random.Random,
                 surveyed: set[str]) -> list[Measure]:
    path = f"/key/{setup.token}/submission?deviceID=collect:bench"
    resurveys = max(1, round(args.n * RESURVEY_SHARE))
    server = Gunicorn("ours", "wsgi:app", settings,
                      {"DATABASE_URL": setup.url, "MEDIA_STORE": str(work / "media")}, work)
    measures = []
    try:
        # Untimed: every worker thread opens its connections; and households to re-survey
        # exist even on an "empty" registry.
        warm = build_batch(setup, people, max(48, resurveys * len(args.concurrency)), [], rng)
        result = run_load(server.port, path, warm.bodies, 16)
        if result.failures:
            raise RuntimeError(f"warm-up failed: {result.failures[:3]}\n{server.log_tail()}")
        people_now, _ = count_people(setup.dsn)
        for conc in args.concurrency:
            existing = registry_households(setup.dsn, resurveys, surveyed, VILLAGE)
            surveyed.update(h.id for h in existing)
            batch = build_batch(setup, people, args.n, existing, rng)
            result = measured_load(server, meter, path, batch.bodies, conc)
            outcome = check_outcome(setup.dsn, batch)
            measure = Measure(people_now, conc, result, outcome)
            measures.append(measure)
            print(_row(measure), flush=True)
            for failure in result.failures[:5]:
                print(f"    FAILURE: {failure}")
            for problem in outcome.problems:
                print(f"    NOT APPLIED: {problem}")
            if outcome.misplaced:
                print(f"    {outcome.misplaced} re-surveys landed in another household")
            if result.failures or outcome.problems:
                print("    server log:\n" + server.log_tail(10))
    finally:
        server.stop()
    return measures


def run_recheck(setup: Setup) -> list[tuple[float, object]]:
    engine = make_engine(setup.url)
    runs = []
    try:
        for _ in range(2):
            with sa.orm.Session(engine) as session:
                began = time.perf_counter()
                report = recheck_registry(session)
                session.commit()
                runs.append((time.perf_counter() - began, report))
    finally:
        engine.dispose()
    return runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings = GunicornSettings(args.workers, args.threads)
    rng = random.Random(SEED + 1)
    people = People()
    measures: list[Measure] = []
    loads: list[tuple[int, dict]] = []
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fangpin-bench-")))
        print("starting PostgreSQL and seeding…", flush=True)
        server_url = stack.enter_context(running_postgres(durable=True))
        setup = prepare_database(server_url)
        print(header(args, settings), flush=True)
        meter = CpuMeter(find_postmaster(sa.make_url(server_url).port))
        surveyed: set[str] = set()
        for size in args.sizes:
            if size:
                print(f"loading the registry to {size:,} people…", flush=True)
                load = load_registry(setup, people, size)
                loads.append((size, load))
                print(f"  +{load['added']:,} people in {load['seconds']:.1f} s "
                      f"(generate {load['generate_s']:.1f} s, COPY {load['copy_s']:.1f} s, "
                      f"then VACUUM ANALYZE + CHECKPOINT); {people.near_duplicates} "
                      f"near-duplicates so far", flush=True)
            else:
                settle(setup)
            print_table_sizes(setup.dsn)
            print(TABLE_HEAD, flush=True)
            measures += measure_size(args, setup, people, settings, meter, work, rng, surveyed)

        print(f"\nEXPLAIN (ANALYZE) of take_in's queries at "
              f"{count_people(setup.dsn)[0]:,} people:")
        for label, plan in explain_apply_queries(setup):
            print(f"  -- {label}")
            for line in plan:
                print(f"     {line}")

        print("\nbulk re-check (recheck_registry, in-process, committed):", flush=True)
        recheck = run_recheck(setup)
        for i, (seconds, report) in enumerate(recheck, 1):
            print(f"  run {i}: {seconds:.1f} s  people {report.people:,}  groups "
                  f"{report.groups:,}  new_flags {report.new_flags:,}", flush=True)
        print("\nat the end (after the submissions and the re-check):")
        print_table_sizes(setup.dsn)

    print("\n" + "=" * 78)
    for size, load in loads:
        print(f"LOAD to {size:,}: +{load['added']:,} people in {load['seconds']:.1f} s "
              f"({load['added'] / load['seconds']:,.0f} people/s)")
    failures = sum(len(m.result.failures) for m in measures)
    not_applied = sum(n for m in measures for s, n in m.outcome.states.items() if s != "applied")
    misplaced = sum(m.outcome.misplaced for m in measures)
    for conc in args.concurrency:
        at = [m for m in measures if m.concurrency == conc]
        first, last = at[0], at[-1]
        ratio = first.result.rate / last.result.rate if last.result.rate else float("inf")
        ok = ratio <= TARGET_RATIO
        print(f"HEADLINE conc {conc}: rate at {first.people:,} people {first.result.rate:.1f} "
              f"/ at {last.people:,} {last.result.rate:.1f} = {ratio:.2f} "
              f"({'MEETS' if ok else 'MISSES'} target ≤ {TARGET_RATIO})")
    seconds, report = recheck[0]
    ok = seconds < TARGET_RECHECK_S
    print(f"RE-CHECK at {report.people:,} people: {seconds:.1f} s "
          f"({'MEETS' if ok else 'MISSES'} target < {TARGET_RECHECK_S:.0f} s); second run "
          f"{recheck[1][0]:.1f} s, new_flags {recheck[1][1].new_flags}")
    if recheck[1][1].new_flags:
        print("FAILED: the second re-check added flags")
    if failures or not_applied or misplaced or recheck[1][1].new_flags:
        print(f"FAILED: {failures} answers other than 201, {not_applied} submissions not "
              f"applied, {misplaced} re-surveys misplaced")
        return 1
    print("all responses were 201 and every submission was applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
