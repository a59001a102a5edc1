"""Use cases of background jobs: ask for one, run one, read how far it is.

A job is asked for in the asker's unit of work (``submit_job``: a row, an audit entry) and
handed to the app's runner once that unit commits (``server.jobs.runners``). Running it
(``run_job``) claims the row, calls the handler of its kind with a ``JobContext`` — the params,
the asker as they are now, a progress callback, a temporary file to write to — keeps the file in
the media store and marks the job done; a handler's refusal (a catalogue code) or a crash marks
it failed with what went wrong. Progress is written in units of its own, at most once a second,
so that a reader sees it while the job runs.

Handlers register by kind (``@handler("export")``); the modules that define them are imported
by ``server.jobs.runners.load_handlers`` wherever jobs run.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.audit.services import record
from server.auth import Principal
from server.db import Database, after_commit, utcnow, writing
from server.domain.catalogue import CatalogueError, render
from server.domain.jobs import JobState
from server.jobs.models import Job

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What a handler gets: the job's params, the asker, where to write, how to report."""

    job_id: int
    params: Mapping
    user: Principal
    output: BinaryIO
    report: Callable[[int, int | None], None]  # (rows done, rows in all if known)
    database: Database  # for a handler whose service opens units of its own
    store: object  # the media store


@dataclass(frozen=True)
class JobResult:
    """What a handler made: the file's name (Chinese, as the user downloads it) and type, and
    the audit entry that says what was made (``action``, ``object_type``, ``object_id`` and
    the details), written with the job's completion in the asker's name."""

    name: str
    content_type: str
    rows: int | None = None
    audit: Mapping | None = None


Handler = Callable[[Session, JobContext], JobResult]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function
    return register


def submit_job(session: Session, user: Principal, kind: str, title: str, params: Mapping,
               run: Callable[[int], None]) -> Job:
    """A queued job of ``kind`` for ``user`` (audited ``job.submitted``); ``run(job_id)`` —
    the app's runner — is called once the asker's unit of work has committed."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for jobs of kind {kind!r}")
    job = Job(kind=kind, title=title, params=dict(params), user_id=user.id,
              area_code=user.area_code, state=JobState.QUEUED.value)
    session.add(job)
    session.flush()
    record(session, "job.submitted", "job", job.id, user.id, kind=kind, title=title,
           params=dict(params))
    after_commit(session, lambda: run(job.id))
    return job


class _Progress:
    """Writes a job's progress in units of its own, at most every ``interval`` seconds."""

    def __init__(self, database: Database, job_id: int, interval: float = 1.0):
        self.database, self.job_id, self.interval = database, job_id, interval
        self.written = 0.0

    def __call__(self, done: int, total: int | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.written < self.interval:
            return
        self.written = now
        values = {"done": done} if total is None else {"done": done, "total": total}
        with writing(), self.database.unit_of_work() as unit:
            unit.session.execute(update(Job).where(Job.id == self.job_id).values(**values))


def run_job(database: Database, store, job_id: int) -> str:
    """Run job ``job_id`` if it is still queued (a job is run once); returns its final state.

    The handler reads in a unit of its own that writes nothing (on SQLite a reading
    transaction never holds the write lock, so the progress can be written meanwhile); the
    job's completion and the handler's audit entry are one unit after it."""
    with writing(), database.unit_of_work() as unit:
        claimed = unit.session.execute(
            update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED.value)
            .values(state=JobState.RUNNING.value, started_at=utcnow())).rowcount
        job = unit.session.get(Job, job_id)
        if not claimed or job is None:
            return job.state if job is not None else "missing"
        kind, params, user_id = job.kind, dict(job.params), job.user_id
    progress = _Progress(database, job_id)
    try:
        with tempfile.TemporaryFile(prefix="fangpin-job-") as output:
            with database.unit_of_work() as unit:
                account = unit.session.get(User, user_id)
                if account is None or not account.active:
                    raise CatalogueError("USER_INACTIVE", username=account.username
                                         if account else str(user_id))
                context = JobContext(job_id, params, Principal.of(account), output, progress,
                                     database, store)
                result = HANDLERS[kind](unit.session, context)
            output.flush()
            output.seek(0)
            stored = store.put(output)
        with writing(), database.unit_of_work() as unit:
            unit.session.execute(update(Job).where(Job.id == job_id).values(
                state=JobState.DONE.value, finished_at=utcnow(), result_key=stored.key,
                result_size=stored.size, result_name=result.name,
                result_type=result.content_type,
                **({"done": result.rows, "total": result.rows} if result.rows is not None
                   else {})))
            record(unit.session, "job.done", "job", job_id, None, kind=kind,
                   rows=result.rows, size=stored.size)
            if result.audit:
                details = dict(result.audit)
                record(unit.session, details.pop("action"), details.pop("object_type"),
                       details.pop("object_id"), user_id, job_id=job_id, **details)
        return JobState.DONE.value
    except Exception as error:  # noqa: BLE001 - every failure is kept on the job, and logged
        if isinstance(error, CatalogueError):
            code, message = error.code, render(error.code, error.params)
        else:
            log.exception("job %s (%s) failed", job_id, kind)
            code, message = "JOB_FAILED", render("JOB_FAILED", {})
        with writing(), database.unit_of_work() as unit:
            unit.session.execute(update(Job).where(Job.id == job_id).values(
                state=JobState.FAILED.value, finished_at=utcnow(), error_code=code,
                error_message=message[:500]))
            record(unit.session, "job.failed", "job", job_id, None, kind=kind, code=code)
        return JobState.FAILED.value
