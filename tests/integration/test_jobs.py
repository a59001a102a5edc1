"""Background jobs (issue 14): asked for in a unit of work, run after its commit — in a thread
of the server (JOBS=thread) or by procrastinate's worker on PostgreSQL (JOBS=procrastinate) —
with their progress readable while they run, their file kept in the media store and downloaded
by the asker alone, and a failure kept on the job with its code. On both databases."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.errors import AppError
from server.jobs.models import Job
from server.jobs.services import JobResult, handler, submit_job
from tests.integration.conftest import user
from tests.support.console import Console
from tests.support.rest import Api


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SESSION_COOKIE_SECURE": False}  # the console over plain http


RELEASE = threading.Event()  # the slow handler waits for it, so progress can be read midway


@handler("test.lines")
def _lines(session, job) -> JobResult:
    count = job.params["count"]
    for number in range(1, count + 1):
        job.output.write(f"第{number}行\n".encode())
        job.report(number, count)
        if job.params.get("slow") and number == count // 2:
            job.report(number, count, force=True)
            assert RELEASE.wait(30)
    if job.params.get("refuse"):
        raise AppError("FORBIDDEN_ROLE", role="测试")
    if job.params.get("crash"):
        raise RuntimeError("a bug")
    return JobResult(f"测试_{count}行.txt", "text/plain; charset=utf-8", rows=count)


def _submit(app, username: str, params: dict) -> int:
    database = app.extensions["fangpin.db"]
    with database.unit_of_work() as unit:
        job = submit_job(unit.session, user(unit.session, username), "test.lines", "测试任务",
                         params, app.extensions["fangpin.jobs"])
        return job.id


def _finished(db, job_id: int, seconds: float = 30) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.rollback()  # a new snapshot (SQLite's WAL keeps a transaction's first one)
        job = db.get(Job, job_id)
        if job.state in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job.state}")


def test_a_job_runs_after_the_commit_and_its_file_is_the_askers(app, live_server, db):
    """The asker reads the job's state and progress while it runs, then downloads its file
    (audited); another user gets 404, and the file before it is done answers JOB_NOT_DONE."""
    RELEASE.clear()
    job_id = _submit(app, "county", {"count": 40, "slow": True})
    county, township = Api(live_server, "county"), Api(live_server, "township")

    deadline = time.monotonic() + 30
    while (midway := county.get(f"/jobs/{job_id}").json())["state"] != "running" \
            or midway["done"] < 20:
        assert time.monotonic() < deadline, midway
        time.sleep(0.05)
    early = county.get(f"/jobs/{job_id}/file")
    RELEASE.set()
    _finished(db, job_id)
    done = county.get(f"/jobs/{job_id}").json()
    download = county.get(f"/jobs/{job_id}/file")

    assert (midway["done"], midway["total"], midway["percent"]) == (20, 40, 50)
    assert early.status_code == 409 and early.json()["code"] == "JOB_NOT_DONE"
    assert (done["state"], done["percent"], done["result_name"]) == ("done", 100, "测试_40行.txt")
    assert done["file_url"] == f"/api/v1/jobs/{job_id}/file"
    assert download.status_code == 200
    assert download.content.decode().splitlines()[39] == "第40行"
    assert "filename*=UTF-8''%E6%B5%8B%E8%AF%95_40%E8%A1%8C.txt" \
        in download.headers["Content-Disposition"]
    assert township.get(f"/jobs/{job_id}").status_code == 404
    assert township.get(f"/jobs/{job_id}/file").status_code == 404
    assert [j["id"] for j in county.items("/jobs")] == [job_id]
    db.rollback()
    actions = db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "job", AuditEntry.object_id == str(job_id))
        .order_by(AuditEntry.id)).all()
    assert actions == ["job.submitted", "job.done", "job.downloaded"]


@pytest.mark.parametrize(("params", "code"), [({"count": 3, "refuse": True}, "FORBIDDEN_ROLE"),
                                              ({"count": 3, "crash": True}, "JOB_FAILED")])
def test_a_failing_job_keeps_its_code_and_message(app, db, params, code):
    job = _finished(db, _submit(app, "county", params))

    assert (job.state, job.error_code) == ("failed", code)
    assert job.error_message and job.result_key is None
    assert db.scalar(select(AuditEntry.details).where(AuditEntry.action == "job.failed",
                                                      AuditEntry.object_id == str(job.id))
                     )["code"] == code


def test_a_job_asked_for_in_a_unit_that_rolls_back_never_runs(app, db):
    database = app.extensions["fangpin.db"]
    ran = []
    with pytest.raises(RuntimeError), database.unit_of_work() as unit:
        submit_job(unit.session, user(unit.session, "county"), "test.lines", "测试任务",
                   {"count": 1}, ran.append)
        raise RuntimeError("the request failed after asking")

    assert ran == [] and db.scalars(select(Job)).all() == []


@pytest.fixture
def procrastinate_config(app_config, backend):
    if backend != "postgresql":
        pytest.skip("procrastinate runs on PostgreSQL")
    return {**app_config, "JOBS": "procrastinate"}


def test_procrastinate_runs_the_job_in_its_worker(procrastinate_config, db):
    """JOBS=procrastinate: the job is deferred to procrastinate's queue in the same database
    and run by its worker (`fangpin jobs`), not by the server."""
    from server import create_app

    app = create_app(procrastinate_config)
    try:
        job_id = _submit(app, "county", {"count": 5})
        time.sleep(0.3)
        db.rollback()
        waiting = db.get(Job, job_id).state
        app.extensions["fangpin.jobs"].work(wait=False)  # until the queue is empty
        job = _finished(db, job_id, 5)
    finally:
        app.extensions["fangpin.jobs"].close()
        app.extensions["fangpin.db"].engine.dispose()

    assert waiting == "queued"  # nobody ran it before the worker
    assert (job.state, job.done, job.result_name) == ("done", 5, "测试_5行.txt")


def test_the_console_lists_the_users_jobs_and_serves_the_file(app, live_server, db):
    """后台任务: the asker's jobs with their state; a running one makes the table refresh
    itself (htmx); the file of a done one downloads; another user sees neither."""
    done = _finished(db, _submit(app, "county", {"count": 2}))
    failed = _finished(db, _submit(app, "county", {"count": 1, "refuse": True}))
    county, township = Console(live_server), Console(live_server)
    county.login("county")
    township.login("township")

    page = county.get("/jobs").text
    download = county.get(f"/jobs/{done.id}/file")

    assert f'data-job-id="{done.id}" data-state="done"' in page
    assert f'data-job-id="{failed.id}" data-state="failed"' in page
    assert 'data-error-code="FORBIDDEN_ROLE"' in page
    assert 'hx-trigger="every 2s"' not in page  # nothing runs: no refreshing
    assert download.status_code == 200 and download.content.decode() == "第1行\n第2行\n"
    assert f'data-job-id="{done.id}"' not in township.get("/jobs").text
    assert township.get(f"/jobs/{done.id}/file").status_code == 404
