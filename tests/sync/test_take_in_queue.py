"""TAKE_IN=queue: the request only stores; `fangpin worker` takes submissions in afterwards."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from server.households.models import Household, Person, SurveyVersion
from server.intake.worker import run_worker, take_in_batch
from server.submissions.models import Submission
from sync.openrosa import submission_message
from tests.integration.test_registry import CHILD, HEAD, SPOUSE
from tests.support.collect import CollectClient, response_message
from tests.support.households import id_number
from tests.sync.test_submission_registry import household_xml, households_list


@pytest.fixture
def queued(app_config):
    app_config["TAKE_IN"] = "queue"


@pytest.fixture
def client(queued, live_server, seeded) -> CollectClient:
    return CollectClient(live_server, seeded.tokens["helper"])


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_the_request_stores_and_the_batch_takes_in(client, seeded, db):
    response = client.submit(household_xml(seeded, [HEAD, SPOUSE, CHILD]))

    assert response.status_code == 201
    assert db.scalar(select(Submission.state)) == "received"
    assert count(db, Household) == 0 and households_list(client) == []

    report = take_in_batch(db, 100)
    db.commit()

    assert report.taken == 1 and report.states == {"applied": 1} and not report.failed
    assert db.scalar(select(Submission.state)) == "applied"
    [row] = households_list(client)
    assert row["head_name"] == "张三"


def test_a_queued_submission_is_answered_as_received_and_being_checked(client, seeded, db):
    """SPEC §5/§6: in queue mode the request only stores; the phone hears that the submission
    was received and is being checked, not a success the registry has not decided yet."""
    response = client.submit(household_xml(seeded, [HEAD, SPOUSE]))

    assert response.status_code == 201
    assert response.headers["X-Submission-State"] == "received"
    assert response_message(response) == submission_message("received")
    assert submission_message("received") != submission_message("applied")


def family(n: int) -> list[dict]:
    """Household ``n`` of distinct people (a head and a spouse)."""
    return [{**HEAD, "a7_id_number": id_number("430421", "19800101", 100 + n)},
            {**SPOUSE, "a7_id_number": id_number("430421", "19820202", 200 + n)}]


def test_a_batch_takes_the_oldest_first_and_no_more_than_its_size(client, seeded, db):
    for n in range(3):
        assert client.submit(household_xml(seeded, family(n))).status_code == 201

    report = take_in_batch(db, 2)
    db.commit()

    states = db.execute(select(Submission.id, Submission.state).order_by(Submission.id)).all()
    assert report.taken == 2
    assert [state for _, state in states] == ["applied", "applied", "received"]


def test_a_failing_take_in_is_left_received_and_the_rest_of_the_batch_goes_on(
        client, seeded, db, monkeypatch):
    """The batch's set-based write fails (simulated): its surveys are taken in one at a time
    instead, and one whose take-in raises even so is left received; the rest go on."""
    from server.intake import dispatch

    for _ in range(2):
        client.submit(household_xml(seeded, [HEAD, SPOUSE]))
    first, second = db.scalars(select(Submission.id).order_by(Submission.id)).all()
    real = dispatch.take_in_one

    def failing_batch_write(*_args, **_kwargs):
        raise RuntimeError("simulated: the batch's write failed")

    def failing_on_first(session, submission_id, *args, **kwargs):
        if submission_id == first:
            raise RuntimeError("simulated: the database went away")
        return real(session, submission_id, *args, **kwargs)

    monkeypatch.setattr(dispatch.bulk, "write_surveys", failing_batch_write)
    monkeypatch.setattr(dispatch, "take_in_one", failing_on_first)
    report = take_in_batch(db, 10)
    db.commit()

    assert report.failed == [first] and report.taken == 1
    assert db.get(Submission, first).state == "received"
    assert db.get(Submission, second).state == "applied"
    # the next batch may skip what failed, so one bad submission cannot spin a worker
    assert take_in_batch(db, 10, frozenset({first})).taken == 0


def test_the_worker_takes_in_what_phones_send_while_it_runs(client, seeded, app, db):
    """Six phones racing on one new household while a worker runs: one household, as inline
    (the first registers it; the others list registered people and are held, SPEC §5)."""
    database = app.extensions["fangpin.db"]
    stop = threading.Event()
    batches = []
    worker = threading.Thread(target=run_worker, args=(database,),
                              kwargs={"batch": 2, "poll": 0.05, "stop": stop,
                                      "on_batch": batches.append})
    worker.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            codes = list(pool.map(
                lambda _: client.submit(household_xml(seeded, [HEAD, SPOUSE, CHILD])).status_code,
                range(6)))
        deadline = time.monotonic() + 30
        while db.scalar(select(func.count()).select_from(Submission)
                        .where(Submission.state == "received")) and time.monotonic() < deadline:
            time.sleep(0.05)
            db.rollback()
    finally:
        stop.set()
        worker.join(10)

    assert codes == [201] * 6
    assert not worker.is_alive()
    assert sorted(db.scalars(select(Submission.state))) == ["applied"] + ["held"] * 5
    assert sum(b.taken for b in batches) == 6
    assert (count(db, Household), count(db, Person), count(db, SurveyVersion)) == (1, 3, 1)


def test_an_unknown_take_in_mode_is_refused_at_start():
    from server import create_app

    with pytest.raises(ValueError, match="TAKE_IN"):
        create_app({"TAKE_IN": "later"})


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_the_worker_command_runs_beside_the_server(client, seeded, db, app_config, stop_signal):
    """`fangpin worker` as production starts it: a process of its own, stopped by Ctrl-C or by
    systemd's SIGTERM, and then it says so and exits 0."""
    import os
    import signal
    import subprocess
    import sys

    from server.config import PROJECT_ROOT

    env = {**os.environ, "DATABASE_URL": app_config["DATABASE_URL"],
           "MEDIA_STORE": app_config["MEDIA_STORE"], "TAKE_IN": "queue"}
    # A suite run in the background (`pytest &`) starts its children with SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler: install it, as a terminal's Ctrl-C has.
    ctrl_c = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
              "from server.cli import main; main()")
    worker = subprocess.Popen([sys.executable, "-c", ctrl_c, "worker", "--poll", "0.1"],
                              cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert client.submit(household_xml(seeded, [HEAD, SPOUSE])).status_code == 201
        deadline = time.monotonic() + 30
        while db.scalar(select(Submission.state)) != "applied" and time.monotonic() < deadline:
            time.sleep(0.1)
            db.rollback()
        worker.send_signal(getattr(signal, stop_signal))
        output = worker.communicate(timeout=20)[0]
        assert worker.returncode == 0, output
    finally:
        if worker.poll() is None:  # never leak the worker, whatever failed above
            worker.terminate()
            try:
                worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    assert db.scalar(select(Submission.state)) == "applied", output
    assert "登记 1 份" in output and "登记工作进程已停止" in output


def _children(pid: int) -> list[int]:
    import os

    children = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_worker_drains_with_several_processes_and_stops_them_all(
        client, seeded, db, app_config):
    """``--processes 3`` on PostgreSQL: two helpers beside the main process, all taking in
    (each batch to one of them), and gone with it — on SIGTERM, and when the main process is
    killed outright. SQLite, one writer, refuses more than one process."""
    import os
    import signal
    import subprocess
    import sys

    from server.config import PROJECT_ROOT

    env = {**os.environ, "DATABASE_URL": app_config["DATABASE_URL"],
           "MEDIA_STORE": app_config["MEDIA_STORE"], "TAKE_IN": "queue"}
    command = [sys.executable, "-m", "server.cli", "worker", "--processes", "3", "--batch", "1",
               "--poll", "0.1", "--busy-rate", "0"]
    if app_config["DATABASE_URL"].startswith("sqlite"):
        refused = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True,
                                 text=True, timeout=60)
        assert refused.returncode == 2 and "SQLite" in refused.stderr, refused.stderr
        return
    for n in range(12):
        assert client.submit(household_xml(seeded, [
            {**HEAD, "a7_id_number": id_number("430421", "19800101", 100 + n)},
            {**SPOUSE, "a7_id_number": id_number("430421", "19820202", 200 + n)}])
        ).status_code == 201
    for ending in ("SIGTERM", "SIGKILL"):
        worker = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        helpers: list[int] = []
        try:
            deadline = time.monotonic() + 30
            while len(helpers) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
                helpers = _children(worker.pid)
            assert len(helpers) == 2, helpers
            deadline = time.monotonic() + 60
            while (db.scalar(select(func.count()).where(Submission.state == "received"))
                   and time.monotonic() < deadline):
                time.sleep(0.1)
                db.rollback()
            worker.send_signal(getattr(signal, ending))
            output = worker.communicate(timeout=30)[0]
            deadline = time.monotonic() + 15
            while any(map(_alive, helpers)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not any(map(_alive, helpers)), (ending, output)
        finally:
            for pid in [worker.pid, *helpers]:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            worker.wait()
        if ending == "SIGTERM":
            assert worker.returncode == 0, output
            assert "3 个进程" in output and "登记工作进程已停止" in output
            # the main process says it started once both helpers had
            assert output.count("登记辅助进程已启动") == 2
            assert output.index("登记工作进程已启动") > output.rindex("登记辅助进程已启动")
    db.rollback()
    assert dict(db.execute(select(Submission.state, func.count()).group_by(Submission.state))
                .all()) == {"applied": 12}
    assert count(db, Household) == 12 and count(db, SurveyVersion) == 12


def test_a_burst_of_phones_is_waited_out_unless_the_backlog_grows_too_large(client, seeded, db):
    from server.db import utcnow
    from server.intake.worker import Pacing, in_burst

    for _ in range(3):
        client.submit(household_xml(seeded, [HEAD, SPOUSE]))
    db.execute(update(Submission).values(received_at=utcnow()))  # all in the last second
    db.commit()

    assert in_burst(db, Pacing(busy_rate=3, max_backlog=10))
    assert not in_burst(db, Pacing(busy_rate=4, max_backlog=10))  # a trickle: take it in
    assert not in_burst(db, Pacing(busy_rate=3, max_backlog=3))  # too many waiting
    assert in_burst(db, Pacing(busy_rate=3, max_backlog=3), helper=True)  # a helper waits still
    assert not in_burst(db, Pacing(busy_rate=4, max_backlog=3), helper=True)
    assert not in_burst(db, Pacing(busy_rate=0))  # pacing off

    db.execute(update(Submission).values(received_at=utcnow() - timedelta(seconds=2)))
    db.commit()
    assert not in_burst(db, Pacing(busy_rate=3, max_backlog=10))  # the burst is over


def test_a_steady_rate_is_not_waited_out_once_the_oldest_has_waited_max_lag(client, seeded, db):
    from server.db import utcnow
    from server.intake.worker import Pacing, in_burst

    for _ in range(3):
        client.submit(household_xml(seeded, [HEAD, SPOUSE]))
    db.execute(update(Submission).values(received_at=utcnow()))
    db.commit()
    pacing = Pacing(busy_rate=3, max_backlog=10, max_lag=30)
    assert in_burst(db, pacing)

    oldest = db.scalar(select(func.min(Submission.id)))
    db.execute(update(Submission).where(Submission.id == oldest)
               .values(received_at=utcnow() - timedelta(seconds=31)))
    client.submit(household_xml(seeded, [HEAD, SPOUSE]))  # the rate goes on
    db.commit()
    assert not in_burst(db, pacing)  # the oldest has waited long enough: take in


def test_the_queues_statements_use_its_partial_index_in_a_generic_plan(db, backend):
    """psycopg prepares a statement run often, and PostgreSQL may then run it with a generic
    plan. With the state bound (``state = $1``) that plan cannot use the partial index of
    received submissions: it walked every applied submission in id order to find the first
    received one, at each claim and each pacing check (3.8 ms a claim at 6 000 stored, growing
    with the table)."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's generic plans")
    from sqlalchemy.dialects import postgresql

    from server.db import utcnow
    from server.intake.worker import claim_query, pacing_queries

    dialect = postgresql.psycopg.dialect(paramstyle="numeric_dollar")
    _recent, oldest, backlog = pacing_queries(utcnow(), 5000)
    connection = db.connection()
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    for number, query in enumerate((claim_query(200), oldest, backlog)):
        compiled = query.compile(dialect=dialect)
        arguments = ", ".join(str(compiled.params[key]) for key in compiled.positiontup)
        connection.exec_driver_sql(f"PREPARE queue_{number} AS {compiled}")
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(
            f"EXPLAIN EXECUTE queue_{number}({arguments})"))
        connection.exec_driver_sql(f"DEALLOCATE queue_{number}")
        assert "ix_submissions_received on submissions" in plan, plan
    db.rollback()
