"""The phones' lists checked at constant cost (issue 16): the manifest's hash of a generated list
comes from a change counter that database triggers keep, never from the list's content; the
download carries it as an ETag and answers 304. Real HTTP, both databases."""

from __future__ import annotations

import csv
import io
import threading
import uuid

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import select, text

from server.areas.models import Area
from server.db import autocommit_engine
from server.households.models import Household
from server.lists.models import ListChange, ListVersion
from server.lists.services import fold, list_counts
from tests.support.collect import HTTP_TIMEOUT, CollectClient, form_instance, parse_manifest
from tests.support.households import CHILD, HEAD, SPOUSE, SURVEY_FIELDS, address
from tests.support.seed import OTHER_TOWNSHIP, PASSWORD, TOWNSHIP, VILLAGE

FILES = ("areas.csv", "figures.csv", "households.csv")


def manifest(client: CollectClient, form_id: str = "household") -> dict[str, dict[str, str]]:
    version = client.seeded.form_versions[form_id]
    response = client.get(client.url(f"/forms/{form_id}/versions/{version}/manifest"))
    assert response.status_code == 200
    return {f["filename"]: f for f in parse_manifest(response)}


def hashes(client: CollectClient, form_id: str = "household") -> dict[str, str]:
    return {name: entry["hash"] for name, entry in manifest(client, form_id).items()}


def households(client: CollectClient) -> list[dict[str, str]]:
    response = client.get(manifest(client)["households.csv"]["downloadUrl"])
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


@pytest.fixture
def helper(live_server, seeded) -> CollectClient:
    client = CollectClient(live_server, seeded.tokens["helper"])
    client.seeded = seeded
    return client


def _client(live_server, seeded, username: str) -> CollectClient:
    client = CollectClient(live_server, seeded.tokens[username])
    client.seeded = seeded
    return client


def take_in(helper: CollectClient, members=(HEAD, SPOUSE, CHILD), **answers) -> None:
    """A household survey through the phone's path; a re-survey of the one household the
    helper lists when there is one."""
    listed = households(helper)
    xml = form_instance("household", helper.seeded.form_versions["household"],
                        {**SURVEY_FIELDS, **address(VILLAGE), "phone": "13812345678", **answers},
                        list(members), entity_id=listed[0]["name"] if listed else None)
    response = helper.submit(xml)
    assert response.status_code == 201
    assert response.headers["X-Submission-State"] == "applied"


def county(live_server) -> requests.Session:
    session = requests.Session()
    session.auth = ("county", PASSWORD)
    session.base = f"{live_server}/api/v1"  # type: ignore[attr-defined]
    return session


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in FILES if before[name] != after[name]}


# --- each kind of change gives a new hash; no change, the same --------------------------------


def test_an_unchanged_list_keeps_its_hash_and_every_form_names_it_alike(helper):
    """Issue 16: no change, same hash; the three forms that read households.csv name one
    version of it (Collect keeps one hash per entity list, not per form)."""
    take_in(helper)
    first = hashes(helper)

    assert hashes(helper) == first
    assert {hashes(helper, form)["households.csv"]
            for form in ("household", "measures", "elimination")} == {first["households.csv"]}


def test_a_survey_taken_in_gives_the_households_list_a_new_hash(helper):
    before = hashes(helper)
    take_in(helper)
    middle = hashes(helper)
    take_in(helper, a28_wages="15000")  # a re-survey of the same household

    assert changed(before, middle) == {"households.csv"}
    assert changed(middle, hashes(helper)) == {"households.csv"}
    assert households(helper)[0]["a28_wages"] == "15000"


@pytest.mark.parametrize("statement", [
    # the head's name, written by whatever path (here by hand): the label shows it
    "UPDATE persons SET name = '张三丰' WHERE id = (SELECT head_person_id FROM households)",
    # a reviewer's correction of the latest survey in place
    "UPDATE survey_versions SET size = size",
    # the household itself
    "UPDATE households SET monitoring_type = '02'",
], ids=["head_name", "survey_corrected", "household"])
def test_a_change_by_any_write_path_gives_a_new_hash(helper, app_config, statement):
    """The counter is kept by database triggers, not by the take-in's Python: a bare UPDATE
    counts too."""
    take_in(helper)
    before = hashes(helper)
    engine = sa.create_engine(app_config["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()

    assert changed(before, hashes(helper)) == {"households.csv"}


def test_an_update_of_people_that_changes_nothing_shown_keeps_the_hash(helper, app_config):
    """The person triggers skip an update that leaves the name, the ID number and the
    household as they were (a re-survey rewrites every member)."""
    take_in(helper)
    before = hashes(helper)
    engine = sa.create_engine(app_config["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE persons SET name = name, relation = relation"))
    engine.dispose()

    assert hashes(helper) == before


def test_a_task_opened_and_closed_gives_new_hashes(helper, live_server):
    """Issue 6/16: a department-warning task marks the household's label (【待核查】)."""
    from tests.api.test_warning_lists import api, csv_list, only_task, upload

    take_in(helper)
    first = hashes(helper)
    upload(api(live_server, "county"), "医保.csv", csv_list(
        ("县医保局", SPOUSE["a7_id_number"], "住院自付超过2万元", "2021-07-01")))
    opened = hashes(helper)
    village = api(live_server, "village")
    response = village.post(f"{village.base}/warning-tasks/{only_task(village)['id']}/result",
                            json={"outcome": "01", "result": "无风险"}, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text

    assert changed(first, opened) == {"households.csv"}
    assert changed(opened, hashes(helper)) == {"households.csv"}


def test_an_area_renamed_gives_the_households_and_areas_lists_new_hashes(helper, live_server):
    """The label names the village and group; areas.csv names every area."""
    take_in(helper)
    before = hashes(helper)
    session = county(live_server)
    response = session.patch(f"{session.base}/areas/{VILLAGE}001", json={"name": "红旗组"},
                             timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text

    assert changed(before, hashes(helper)) == {"households.csv", "areas.csv"}
    assert households(helper)[0]["label"] == "张三 洪罗庙社区红旗组"


def test_a_yearly_figure_changed_gives_the_figures_list_a_new_hash(helper, app_config):
    from decimal import Decimal

    from sqlalchemy.orm import Session

    from server.db import make_engine
    from server.domain.figures import FigureKind, YearlyFigure
    from server.figures.services import set_figure

    take_in(helper)
    before = hashes(helper)
    engine = make_engine(app_config["DATABASE_URL"])
    with Session(engine) as session, session.begin():
        set_figure(session, YearlyFigure("43", 2022, FigureKind.MONITORING_LINE, Decimal("6900"),
                                         "测试文件"))
    engine.dispose()

    assert changed(before, hashes(helper)) == {"figures.csv"}


def test_a_household_that_moves_changes_the_lists_of_both_areas(helper, live_server, seeded,
                                                                app_config, db):
    take_in(helper)
    other = _client(live_server, seeded, "helper_other")
    before_here, before_there = hashes(helper), hashes(other)
    there = db.scalar(select(Area.code).where(Area.code.startswith(OTHER_TOWNSHIP),
                                              Area.level == "village").order_by(Area.code))
    engine = sa.create_engine(app_config["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE households SET area_code = :there"), {"there": there})
    engine.dispose()

    assert changed(before_here, hashes(helper)) == {"households.csv"}
    assert changed(before_there, hashes(other)) == {"households.csv"}
    assert households(helper) == [] and len(households(other)) == 1


def test_users_whose_lists_differ_get_different_hashes(helper, live_server, seeded, db):
    """The hash names the user's area and role: a village user and a helper of the same
    village, a helper of the township (phones masked: SPEC §7), a helper elsewhere."""
    from server.auth import issue_token
    from server.domain.roles import Role
    from tests.support.rest import add_user

    take_in(helper)
    token = issue_token(db, add_user(db, "helper_township", Role.HELPER, TOWNSHIP))
    db.commit()
    mine = hashes(helper)["households.csv"]
    others = {username: hashes(_client(live_server, seeded, username))["households.csv"]
              for username in ("village", "helper_other")}
    wide = CollectClient(live_server, token)
    wide.seeded = seeded
    others["helper_township"] = hashes(wide)["households.csv"]

    assert mine not in others.values() and len(set(others.values())) == 3
    assert hashes(_client(live_server, seeded, "helper"))["households.csv"] == mine
    assert households(wide)[0]["phone"] != households(helper)[0]["phone"]


# --- not computed from the content -------------------------------------------------------------


def test_the_manifest_reads_no_household_row(helper, app):
    """Issue 16: one indexed query of the counters, whatever the size of the list (today's
    code built the whole list to hash it)."""
    take_in(helper)
    statements: list[str] = []
    engine = app.extensions["fangpin.db"].engine
    # the manifest reads statement by statement (db.reads_only): on PostgreSQL, on the twin
    engines = [e for e in (engine, autocommit_engine(engine)) if e is not None]

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    hashes(helper)  # the plain files' digests are built once per version: not this time
    for watched in engines:
        sa.event.listen(watched, "before_cursor_execute", seen)
    try:
        hashes(helper)
    finally:
        for watched in engines:
            sa.event.remove(watched, "before_cursor_execute", seen)

    shown = ("households", "survey_versions", "persons", "warning_rows", "yearly_figures")
    assert statements and not [s for s in statements
                               if any(f" {table}" in s for table in shown)], statements
    assert len([s for s in statements if "list_" in s]) == 1
    # a published version never changes: its attachments' names are read once per process
    assert not [s for s in statements if "form_versions" in s], statements


# --- the download: ETag, 304, streamed -------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_the_download_carries_its_version_as_etag_and_answers_304(helper, name):
    """Issue 16: as ODK Central, an unchanged list is a 304 to If-None-Match (strong ETag;
    its weak form too, which a proxy may have made of it)."""
    take_in(helper)
    entry = manifest(helper)[name]
    first = helper.get(entry["downloadUrl"])
    etag = first.headers["ETag"]

    again = helper.http.get(entry["downloadUrl"], headers={"If-None-Match": etag},
                            timeout=HTTP_TIMEOUT)
    weak = helper.http.get(entry["downloadUrl"], headers={"If-None-Match": f"W/{etag}"},
                           timeout=HTTP_TIMEOUT)
    other = helper.http.get(entry["downloadUrl"], headers={"If-None-Match": '"stale"'},
                            timeout=HTTP_TIMEOUT)

    assert first.status_code == 200 and etag == f'"{entry["hash"].removeprefix("md5:")}"'
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert weak.status_code == 304
    assert other.status_code == 200 and other.content == first.content


def test_a_changed_list_is_downloaded_again_with_its_new_etag(helper):
    take_in(helper)
    url = manifest(helper)["households.csv"]["downloadUrl"]
    etag = helper.get(url).headers["ETag"]
    take_in(helper, a28_wages="15000")

    response = helper.http.get(url, headers={"If-None-Match": etag}, timeout=HTTP_TIMEOUT)

    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert "15000" in response.content.decode("utf-8")


def test_a_large_list_is_streamed_in_chunks_with_the_content_of_the_whole(helper, app, db):
    """The list is written as the rows are read (chunks of ~64 KiB), not built whole."""
    from server.accounts.models import User
    from server.auth import Principal
    from sync.attachments import households_csv, households_csv_chunks

    take_in(helper)
    principal = Principal.of(db.scalar(select(User).where(User.username == "helper")))
    chunks = list(households_csv_chunks(db, principal, chunk=1))
    response = helper.get(manifest(helper)["households.csv"]["downloadUrl"])

    assert len(chunks) == 2  # the header with the household, then the empty rest
    assert b"".join(chunks) == households_csv(db, principal) == response.content


# --- the counters ------------------------------------------------------------------------------


def test_folding_keeps_every_hash(helper, live_server, seeded, app_config, db):
    take_in(helper)
    take_in(helper, a28_wages="15000")
    mine, others = hashes(helper), hashes(_client(live_server, seeded, "helper_other"))
    assert db.scalar(select(sa.func.count()).select_from(ListChange)) > 0

    fold(db)
    db.commit()

    assert db.scalar(select(sa.func.count()).select_from(ListChange)) == 0
    assert db.scalar(select(sa.func.count()).select_from(ListVersion)) > 0
    assert hashes(helper) == mine
    assert hashes(_client(live_server, seeded, "helper_other")) == others
    take_in(helper, a28_wages="16000")
    assert changed(mine, hashes(helper)) == {"households.csv"}


def test_a_manifest_folds_when_many_changes_are_pending(helper, app_config, db, monkeypatch):
    """The manifest asks for a fold, after its answer, past FOLD_AT pending changes."""
    from server.lists import services

    monkeypatch.setattr(services, "FOLD_AT", 1)
    take_in(helper)
    first = hashes(helper)  # pending > 1: folded after the answer

    db.expire_all()
    for _ in range(50):  # the fold runs once the response is closed
        if db.scalar(select(sa.func.count()).select_from(ListChange)) == 0:
            break
        threading.Event().wait(0.1)
        db.rollback()
    assert db.scalar(select(sa.func.count()).select_from(ListChange)) == 0
    assert hashes(helper) == first


def test_every_list_trigger_exists_at_head(database, backend):
    """A later migration that recreates a table on SQLite (batch mode) drops its triggers."""
    engine = sa.create_engine(database.url)
    with engine.connect() as connection:
        if backend == "sqlite":
            names = connection.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'lists_%'"))
        else:
            names = connection.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'lists_%'"))
        found = set(names)
    engine.dispose()

    tables = ("households", "persons", "survey_versions", "warning_rows", "areas",
              "yearly_figures")
    # one trigger per table and event on both (row-level on SQLite, per statement on
    # PostgreSQL); persons: update and delete only
    assert {name.split("_", 1)[1].rsplit("_", 1)[0] for name in found} == set(tables)
    assert len(found) == 17


def test_two_writers_of_one_village_never_wait_on_the_counter(app_config, backend, db):
    """PostgreSQL: the triggers append rows, so two transactions changing households of the
    same village at once do not wait on each other (a counter row updated in place would
    hold its lock until the first commits, and order two batches into a deadlock)."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    ids = []
    for _ in range(2):
        household = Household(id=str(uuid.uuid4()), area_code=VILLAGE + "001")
        db.add(household)
        ids.append(household.id)
    db.commit()
    before = list_counts(db, VILLAGE).of("households")
    engine = sa.create_engine(app_config["DATABASE_URL"])
    first, second = engine.connect(), engine.connect()
    try:
        first.begin()
        first.execute(text("UPDATE households SET size = 5 WHERE id = :id"), {"id": ids[0]})
        second.begin()
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        second.execute(text("UPDATE households SET size = 6 WHERE id = :id"), {"id": ids[1]})
        second.commit()  # while the first is still open
        first.commit()
    finally:
        first.close()
        second.close()
        engine.dispose()

    db.expire_all()
    assert list_counts(db, VILLAGE).of("households") == before + 2
