"""App CPU of one submission with no server around it: the WSGI app called directly (issue 16).

Run from the project root:

    .venv/bin/python -m tests.bench.bench_inprocess [--take-in queue|inline|worker] [--n N]
        [--head] [--floor] [--flask-road]

On a durable throwaway PostgreSQL (``bench_submissions``' databases and bodies: valid new
3-person households, XML only), it calls the app's WSGI callable in this process, one request
after another, after 200 untimed ones, and prints the process's CPU and the wall time per
submission. No gunicorn, no client, no other process on the CPU: the figure for comparing two
versions of the request path (``--take-in inline``: with the take-in of a batch of one) without
the machine's noise. Every answer must be 201, or it stops. ``--take-in worker`` stores N more
as received and times the worker's batches taking them in, in this process (app CPU per
household; PostgreSQL's is not counted here: ``bench_takein`` gives both). ``--head`` also
times a HEAD of the same URL (a 204 through Flask, the token's authentication and the request
log: everything a submission's request costs but the submission). ``--floor`` also times the
floor (``floor_app``: parse, regex, one INSERT) on the same bodies, after ours, in this process:
the two figures of the submission benchmark's ratio without gunicorn, the client or the
machine's drift between its slices. ``--flask-road`` also times as many other submissions
through Flask's road alone (``sync.shortcut`` left out), after ours.

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
    parser.add_argument("--head", action="store_true",
                        help="also time HEAD of the submission URL (all but the submission)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the floor's WSGI callable on the same bodies")
    parser.add_argument("--flask-road", action="store_true",
                        help="also time the same submissions through Flask alone, without the "
                             "short road of sync.shortcut")
    parser.add_argument("--top", type=int, default=0,
                        help="--take-in worker: also print the TOP statements by execution time")
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
        flask_bodies = (BodyFactory(dbs.version).build(WARM_UP + args.n, False)
                        if args.flask_road else [])
        log = stack.enter_context(open(os.devnull, "w"))
        stack.enter_context(contextlib.redirect_stderr(log))  # the request log, as a server's

        def call(method: str, data: bytes, content_type: str, expected: str,
                 wsgi=app) -> None:
            environ = {
                "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
                "SERVER_NAME": "bench", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
                "wsgi.errors": log, "CONTENT_LENGTH": str(len(data)),
                "CONTENT_TYPE": content_type, "REMOTE_ADDR": "127.0.0.1",
                "HTTP_X_OPENROSA_VERSION": "1.0"}
            status = []
            answer = b"".join(wsgi(environ, lambda s, _headers, _exc=None: status.append(s)))
            if not status[0].startswith(expected):
                raise SystemExit(f"answered {status[0]}: {answer[:300]!r}")

        def post(body) -> None:
            call("POST", body.data, body.headers["Content-Type"], "201")

        for body in bodies[:WARM_UP]:
            post(body)
        if args.take_in == "worker":
            return _worker(app, bodies[WARM_UP:], post, args.batch, dbs.fangpin_url, args.top)
        wall, cpu = time.perf_counter(), time.process_time()
        for body in bodies[WARM_UP:]:
            post(body)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if args.head:
            head_cpu = time.process_time()
            for _ in range(args.n):
                call("HEAD", b"", "", "204")
            print(f"in-process, HEAD of the submission URL: app CPU "
                  f"{(time.process_time() - head_cpu) / args.n * 1000:.3f} ms a request",
                  file=sys.stdout)
        print(f"in-process, TAKE_IN={args.take_in}, {args.n} submissions: app CPU "
              f"{cpu / args.n * 1000:.3f} ms a submission, wall {wall / args.n * 1000:.3f} ms",
              file=sys.stdout)
        if args.flask_road:
            def flask_post(body) -> None:
                call("POST", body.data, body.headers["Content-Type"], "201",
                     wsgi=app.wsgi_app.flask_app)

            for body in flask_bodies[:WARM_UP]:
                flask_post(body)
            flask_cpu = time.process_time()
            for body in flask_bodies[WARM_UP:]:
                flask_post(body)
            flask_cpu = (time.process_time() - flask_cpu) / args.n
            print(f"in-process, the same through Flask alone: app CPU {flask_cpu * 1000:.3f} ms "
                  f"a submission; the short road ÷ Flask's {cpu / args.n / flask_cpu:.2f}",
                  file=sys.stdout)
        if args.floor:
            floor_cpu = _floor(dbs.floor_dsn, bodies, call)
            print(f"in-process, the floor, {args.n} submissions: app CPU "
                  f"{floor_cpu * 1000:.3f} ms a submission; ours ÷ floor in CPU "
                  f"{cpu / args.n / floor_cpu:.2f}", file=sys.stdout)
    return 0


def _floor(dsn: str, bodies, call) -> float:
    """The floor's app CPU a submission: its WSGI callable given the same bodies (new rows of
    its own table), after the same untimed warm-up."""
    os.environ["FLOOR_DATABASE_URL"] = dsn
    from tests.bench.floor_app import app as floor

    def post(body) -> None:
        call("POST", body.data, body.headers["Content-Type"], "201", wsgi=floor)

    for body in bodies[:WARM_UP]:
        post(body)
    cpu = time.process_time()
    for body in bodies[WARM_UP:]:
        post(body)
    return (time.process_time() - cpu) / (len(bodies) - WARM_UP)


def _worker(app, bodies, post, batch: int, url: str, top: int = 0) -> int:
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
    print(f"PostgreSQL, a household: {statements.read(taken, top)}", file=sys.stdout)
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

    def read(self, households: int, top: int = 0) -> str:
        """The totals per household; with ``top``, then the ``top`` statements by execution
        time, each with its calls, ms, buffers and WAL per household and its first words."""
        if not self.available:
            return "n/a (pg_stat_statements is not loaded on this server)"
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT s.calls, s.total_exec_time, s.shared_blks_hit + s.shared_blks_read,"
                " s.wal_bytes, s.query FROM pg_stat_statements s"
                " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()"
                " AND position('pg_stat_statements' in s.query) = 0"
                " ORDER BY s.total_exec_time DESC").all()
        self.engine.dispose()
        ms, buffers, wal = (sum(float(row[i] or 0) for row in rows) for i in (1, 2, 3))
        lines = [f"statements' execution {ms / households:.3f} ms, buffers touched "
                 f"{buffers / households:.1f}, WAL {wal / households:,.0f} bytes"]
        for calls, each_ms, each_buffers, each_wal, query in rows[:top]:
            words = " ".join(query.split())[:90]
            lines.append(f"  {calls:6d} calls {float(each_ms) / households:.3f} ms "
                         f"{float(each_buffers) / households:6.1f} buffers "
                         f"{float(each_wal or 0) / households:6,.0f} B WAL  {words}")
        return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
