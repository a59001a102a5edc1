"""App CPU of one submission with no server around it: the WSGI app called directly (issue 16).

Run from the project root:

    .venv/bin/python -m tests.bench.bench_inprocess [--take-in queue|inline|worker] [--n N]

On a durable throwaway PostgreSQL (``bench_submissions``' databases and bodies: valid new
3-person households, XML only), it calls the app's WSGI callable in this process, one request
after another, after 200 untimed ones, and prints the process's CPU and the wall time per
submission. No gunicorn, no client, no other process on the CPU: the figure for comparing two
versions of the request path (``--take-in inline``: with the take-in of a batch of one) without
the machine's noise. Every answer must be 201, or it stops. ``--take-in worker`` stores N more
as received and times the worker's batches taking them in, in this process (app CPU per
household; PostgreSQL's is not counted here: ``bench_takein`` gives both).

On a machine whose speed wanders (a shared host), run it under callgrind for a count that does
not: ``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0``, at two values of ``--n``; the
difference of the two totals divided by the difference of N is the instructions per submission.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time

from tests.bench.bench_submissions import BodyFactory, prepare_databases
from tests.bench.bench_takein import SUBMISSION
from tests.support.postgres import running_postgres

WARM_UP = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--take-in", choices=("queue", "inline", "worker"), default="queue",
                        help="worker: store as queue does, then time the worker's take-in")
    parser.add_argument("--n", type=int, default=3000, help="timed submissions (default 3000)")
    parser.add_argument("--batch", type=int, default=200,
                        help="--take-in worker: the batch size (default 200, the worker's)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        work = stack.enter_context(tempfile.TemporaryDirectory(prefix="fangpin-inprocess-"))
        dbs = prepare_databases(stack.enter_context(running_postgres(
            durable=True, statements=args.take_in == "worker")))
        from server import create_app

        app = create_app({"DATABASE_URL": dbs.fangpin_url, "MEDIA_STORE": f"{work}/media",
                          "TAKE_IN": "queue" if args.take_in == "worker" else args.take_in})
        stack.callback(app.extensions["fangpin.db"].engine.dispose)
        path, _, query = SUBMISSION.format(token=dbs.token).partition("?")
        bodies = BodyFactory(dbs.version).build(WARM_UP + args.n, False)
        log = stack.enter_context(open(os.devnull, "w"))
        stack.enter_context(contextlib.redirect_stderr(log))  # the request log, as a server's

        def post(body) -> None:
            environ = {
                "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query,
                "SERVER_NAME": "bench", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body.data),
                "wsgi.errors": log, "CONTENT_LENGTH": str(len(body.data)),
                "CONTENT_TYPE": body.headers["Content-Type"], "REMOTE_ADDR": "127.0.0.1",
                "HTTP_X_OPENROSA_VERSION": "1.0"}
            status = []
            answer = b"".join(app(environ, lambda s, _headers, _exc=None: status.append(s)))
            if not status[0].startswith("201"):
                raise SystemExit(f"answered {status[0]}: {answer[:300]!r}")

        for body in bodies[:WARM_UP]:
            post(body)
        if args.take_in == "worker":
            return _worker(app, bodies[WARM_UP:], post, args.batch, dbs.fangpin_url)
        wall, cpu = time.perf_counter(), time.process_time()
        for body in bodies[WARM_UP:]:
            post(body)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"in-process, TAKE_IN={args.take_in}, {args.n} submissions: app CPU "
          f"{cpu / args.n * 1000:.3f} ms a submission, wall {wall / args.n * 1000:.3f} ms",
          file=sys.stdout)
    return 0


def _worker(app, bodies, post, batch: int, url: str) -> int:
    """``--take-in worker``: the warm-up's submissions taken in (untimed), the others stored as
    received, then taken in by the worker's batches in this process (timed). With
    pg_stat_statements (the bench's own server loads it), also PostgreSQL's execution time,
    buffers touched and WAL written by the take-in's statements, per household: the buffers and
    the WAL are counts that do not move with the machine's speed."""
    from server.db import writing
    from server.intake.worker import take_in_batch

    database = app.extensions["fangpin.db"]

    def drain() -> int:
        taken = 0
        while True:
            with writing(), database.unit_of_work() as unit:
                report = take_in_batch(unit.session, batch)
            if report.failed or report.states.get("applied", 0) != report.taken:
                raise SystemExit(f"not all applied: {report.states}, failed {report.failed[:5]}")
            taken += report.taken
            if report.taken < batch:
                return taken

    drain()
    for body in bodies:
        post(body)
    statements = _Statements(url)
    wall, cpu = time.perf_counter(), time.process_time()
    taken = drain()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if taken != len(bodies):
        raise SystemExit(f"{taken} taken in, not {len(bodies)}")
    print(f"in-process, the worker's batches of {batch}, {taken} new households: app CPU "
          f"{cpu / taken * 1000:.3f} ms a household, wall {wall / taken * 1000:.3f} ms",
          file=sys.stdout)
    print(f"PostgreSQL, a household: {statements.read(taken)}", file=sys.stdout)
    return 0


class _Statements:
    """pg_stat_statements of the bench's database, reset now and read after the take-in."""

    def __init__(self, url: str):
        import sqlalchemy as sa

        self.engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                connection.exec_driver_sql("SELECT pg_stat_statements_reset()")
            self.available = True
        except sa.exc.DBAPIError:  # a server without the library loaded
            self.available = False

    def read(self, households: int) -> str:
        if not self.available:
            return "n/a (pg_stat_statements is not loaded on this server)"
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT sum(s.total_exec_time), sum(s.shared_blks_hit + s.shared_blks_read),"
                " sum(s.wal_bytes) FROM pg_stat_statements s"
                " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()"
                " AND position('pg_stat_statements' in s.query) = 0").one()
        self.engine.dispose()
        ms, buffers, wal = (float(value or 0) for value in row)
        return (f"statements' execution {ms / households:.3f} ms, buffers touched "
                f"{buffers / households:.1f}, WAL {wal / households:,.0f} bytes")


if __name__ == "__main__":
    sys.exit(main())
