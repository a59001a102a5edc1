"""Where background jobs run, chosen once in ``create_app`` by the ``JOBS`` setting:

- ``thread`` (the default; SQLite, one machine): the server process runs the job in a thread of
  its own once the request that asked for it has committed. Nothing else to run; a job caught
  by a restart of the server stays ``running`` (its asker asks again).
- ``procrastinate`` (PostgreSQL): the job is deferred to procrastinate's queue (its tables, in
  the same database) and run by ``fangpin jobs`` — as many worker processes as wanted, on any
  machine that reaches the database; a job survives a restart of the web server.

Either way the job's row (``server.jobs.models.Job``) tells its state, progress and file.
"""

from __future__ import annotations

import importlib
import logging
import threading

import procrastinate
from sqlalchemy import make_url

from server.db import Database
from server.jobs.services import run_job

log = logging.getLogger(__name__)
THREAD, PROCRASTINATE = "thread", "procrastinate"
MODES = (THREAD, PROCRASTINATE)
QUEUE = "fangpin"

# The modules that register job handlers (``server.jobs.services.handler``).
HANDLER_MODULES: tuple[str, ...] = ("server.exports.jobs", "server.printing.jobs")


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)


class ThreadJobs:
    def __init__(self, database: Database, store):
        self.database, self.store = database, store

    def __call__(self, job_id: int) -> None:
        threading.Thread(target=run_job, args=(self.database, self.store, job_id),
                         name=f"job-{job_id}", daemon=True).start()


def conninfo(database_url: str) -> str:
    """libpq's connection string of a SQLAlchemy URL (postgresql+psycopg://… → postgresql://…)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


class ProcrastinateJobs:
    """Jobs deferred to procrastinate (one task, ``fangpin.run_job``, on the queue ``fangpin``)."""

    def __init__(self, database: Database, store, database_url: str):
        self.database, self.store = database, store
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(database_url), min_size=1, max_size=4))
        self._opened = False
        self._lock = threading.Lock()

        @self.app.task(name="fangpin.run_job", queue=QUEUE, pass_context=False)
        def run(job_id: int) -> str:
            return run_job(self.database, self.store, job_id)

        self.task = run

    def __call__(self, job_id: int) -> None:
        try:
            with self._lock:  # the deferring pool opens with the first job
                if not self._opened:
                    self.app.open()
                    self._opened = True
            self.task.defer(job_id=job_id)
        except Exception:  # the job stays queued: `fangpin jobs --requeue` defers it again
            log.exception("job %s stays queued: deferring it to procrastinate failed", job_id)

    def close(self) -> None:
        with self._lock:
            if self._opened:
                self.app.close()
                self._opened = False

    def work(self, wait: bool = True, concurrency: int = 1) -> None:
        """Run the worker (``fangpin jobs``): until stopped, or until the queue is empty."""
        self.app.run_worker(queues=[QUEUE], wait=wait, concurrency=concurrency,
                            install_signal_handlers=wait, delete_jobs="successful")


Runner = ThreadJobs | ProcrastinateJobs


def jobs_mode(mode: str, database: Database, store, database_url: str) -> Runner:
    load_handlers()
    if mode == THREAD:
        return ThreadJobs(database, store)
    if mode == PROCRASTINATE:
        if make_url(database_url).get_backend_name() != "postgresql":
            raise ValueError("JOBS=procrastinate needs PostgreSQL (DATABASE_URL)")
        return ProcrastinateJobs(database, store, database_url)
    raise ValueError(f"JOBS must be one of {MODES}, not {mode!r}")
