"""Benchmark of the registry's take-in (issue 16): the worker alone, and the sustained rate.

Run from the project root:

    .venv/bin/python -m tests.bench.bench_takein [--n N] [--seconds S] [--runs R] [--quick]
        [--worker-args "--batch 500"]

It drives only what any version of the take-in keeps: HTTP, the ``fangpin worker`` command
and the database, so the same bench gives the figures before and after a rewrite of
``server/intake``. On a durable throwaway PostgreSQL (fsync on; ``bench_submissions``'s helpers),
each run:

1. **worker alone**: stores N valid new 3-person households as ``received`` (POSTed through
   gunicorn with ``TAKE_IN=queue`` and no worker running: rows as the field makes them), stops
   gunicorn, starts ``fangpin worker`` at normal priority and times it from its start line until
   no submission is received. Prints households/s and the take-in's CPU per household: the
   worker process's own (app) and PostgreSQL's (the postmaster and all its children, reaped
   backends included) in ms;
2. **sustained rate including the take-in**: gunicorn with ``TAKE_IN=queue`` and ``fangpin
   worker`` beside it at normal priority, with the command's own defaults (its pacing included:
   a deployment runs those, and any CPU the pacing leaves idle is charged to the rate), XML only,
   valid new 3-person households, concurrency 16 for ``--seconds`` of load, then the drain until
   the worker has taken the last one in: sustained = submissions / (load + drain), and its ratio
   to the floor (``tests/bench/floor_app.py`` under the same gunicorn settings, measured in the
   same run for half the time before and half after ours, and averaged);
3. **inline**: gunicorn with ``TAKE_IN=inline`` (each request takes its household in before it
   answers), the same load: its rate (already sustained), p99 and ratio to the floor.

Every phase checks what it measured: every answer 201, every submission it made ``applied``, the
registry grown by one household and three persons per submission (a bench that silently
measured failures would be worthless). ``--runs`` repeats all of it (one PostgreSQL, the
registry growing) and prints each run and the median.

The client runs on the same machine as the servers and PostgreSQL: absolute rates include its
CPU; the ratio to the floor is the figure to watch.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa

from server.config import PROJECT_ROOT
from tests.bench.bench_submissions import (
    Body,
    BodyFactory,
    Databases,
    Gunicorn,
    GunicornSettings,
    LoadResult,
    _children,
    _cpu,
    _on_database,
    find_postmaster,
    post_bodies,
    prepare_databases,
    run_load,
)
from tests.support.postgres import running_postgres

TARGET_SUSTAINED = 0.4  # of the floor
TARGET_WORKER = 400.0  # new households/s, the worker alone
WORKER_STARTED = "登记工作进程已启动"  # the line `fangpin worker` prints before its first batch
SUBMISSION = "/key/{token}/submission?deviceID=collect:bench"


# --- the registry, as the database holds it ---------------------------------------------------


@dataclass(frozen=True)
class Counts:
    states: dict[str, int]
    households: int
    persons: int


def counts(dsn: str) -> Counts:
    with psycopg.connect(dsn) as conn:
        states = dict(conn.execute("SELECT state, count(*) FROM submissions GROUP BY state"))
        households = conn.execute("SELECT count(*) FROM households").fetchone()[0]
        persons = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    return Counts(states, households, persons)


def taken_in_problems(label: str, before: Counts, after: Counts, submitted: int) -> list[str]:
    """What is wrong with the registry after ``submitted`` new 3-person households: each must
    have ended ``applied`` and added one household and three persons."""
    problems = []
    delta = {state: after.states.get(state, 0) - before.states.get(state, 0)
             for state in set(before.states) | set(after.states)}
    others = {state: n for state, n in delta.items() if state != "applied" and n}
    if delta.get("applied", 0) != submitted or others:
        problems.append(f"{label}: {submitted} submitted, their states now: "
                        f"applied {delta.get('applied', 0)}, others {others}")
    if after.households - before.households != submitted:
        problems.append(f"{label}: {after.households - before.households} households "
                        f"for {submitted} submissions")
    if after.persons - before.persons != 3 * submitted:
        problems.append(f"{label}: {after.persons - before.persons} persons "
                        f"for {submitted} 3-person households")
    return problems


def received(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM submissions WHERE state = 'received'").fetchone()[0]


def any_received(conn: psycopg.Connection) -> bool:
    """Whether any submission is still received: the drain's poll. Not a count: counting a
    backlog of tens of thousands every 50 ms cost PostgreSQL several ms a poll, CPU the bench
    took from the take-in it measures."""
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM submissions WHERE state = 'received')").fetchone()[0]


def wait_until_taken_in(dsn: str, timeout: float, applied: int | None = None,
                        every: float = 0.05, stalled: float = 10.0) -> tuple[int, float]:
    """Poll until no submission is received and, with ``applied``, until that many are applied
    (a take-in that claims submissions under another state is not done when none is received).
    Returns how many were received at first and the seconds it took. A take-in that leaves
    fewer applied (failures: the caller's check reports them) is given up ``stalled`` seconds
    after the last received one went."""

    def applied_now(conn: psycopg.Connection) -> int:
        return conn.execute(
            "SELECT count(*) FROM submissions WHERE state = 'applied'").fetchone()[0]

    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.monotonic()
        backlog = left = received(conn)
        done_at = stall_began = None
        while time.monotonic() - started < timeout:
            if not left:
                if applied is None or applied_now(conn) >= applied:
                    done_at = time.monotonic()
                    break
                stall_began = stall_began or time.monotonic()
                if time.monotonic() - stall_began > stalled:
                    done_at = stall_began
                    break
            else:
                stall_began = None
            time.sleep(every)
            left = any_received(conn)
        if done_at is None:
            left = received(conn)
    if done_at is None:
        raise RuntimeError(f"{left} submissions still received after {timeout:.0f} s")
    return backlog, (done_at - started) if backlog else 0.0


# --- processes ----------------------------------------------------------------------------------


class PgCpu:
    """CPU seconds of the PostgreSQL cluster: the postmaster, its children, reaped ones."""

    def __init__(self, server_url: str):
        self.postmaster = find_postmaster(sa.make_url(server_url).port)

    def read(self) -> float:
        if not self.postmaster:
            return float("nan")
        return _cpu([self.postmaster, *_children(self.postmaster)], reaped_of=self.postmaster)


@dataclass
class Bench:
    args: argparse.Namespace
    dbs: Databases
    settings: GunicornSettings
    work: Path
    pg: PgCpu
    factory: BodyFactory  # ours' households: distinct ID numbers for about 365 000 of them
    floor_factory: BodyFactory  # the floor's (it keeps no registry: its ID numbers may repeat)
    running: list[Gunicorn | subprocess.Popen] = field(default_factory=list)
    workers_started: itertools.count = field(default_factory=itertools.count)

    @property
    def dsn(self) -> str:
        return _on_database(self.dbs.fangpin_url, "fangpin", "postgresql")

    @property
    def path(self) -> str:
        return SUBMISSION.format(token=self.dbs.token)

    def env(self, take_in: str) -> dict[str, str]:
        return {"DATABASE_URL": self.dbs.fangpin_url, "MEDIA_STORE": str(self.work / "media"),
                "TAKE_IN": take_in}

    def ours(self, take_in: str) -> Gunicorn:
        server = Gunicorn(f"ours-{take_in}", "wsgi:app", self.settings, self.env(take_in),
                          self.work)
        self.running.append(server)
        return server

    def floor(self) -> Gunicorn:
        server = Gunicorn("floor", "tests.bench.floor_app:app", self.settings,
                          {"FLOOR_DATABASE_URL": self.dbs.floor_dsn}, self.work)
        self.running.append(server)
        return server

    def worker_command(self) -> list[str]:
        return [sys.executable, "-m", "server.cli", "worker", *self.args.worker_args]

    def worker(self) -> tuple[subprocess.Popen, Path]:
        """``fangpin worker`` at normal priority; returns once it has said it started (its
        helpers, ``--processes``, have started before it says so)."""
        log_path = self.work / f"worker-{next(self.workers_started)}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(self.worker_command(), cwd=PROJECT_ROOT,
                                    env={**os.environ, **self.env("queue")}, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append(proc)
        deadline = time.monotonic() + 60
        while WORKER_STARTED not in log_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"fangpin worker did not print {WORKER_STARTED!r}:\n"
                                   f"{tail(log_path)}")
            time.sleep(0.005)
        return proc, log_path

    def stop(self, item: Gunicorn | subprocess.Popen) -> None:
        if isinstance(item, Gunicorn):
            item.stop()
        elif item.poll() is None:
            item.send_signal(signal.SIGTERM)  # the worker finishes its batch and exits 0
            try:
                item.wait(timeout=60)
            except subprocess.TimeoutExpired:
                item.kill()
                item.wait(timeout=5)
        self.running.remove(item)

    def stop_all(self) -> None:
        for item in reversed(list(self.running)):
            self.stop(item)


def tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def gunicorn_cpu(server: Gunicorn) -> float:
    return _cpu([server.proc.pid, *server.workers()])


def process_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds of ``fangpin worker``: its main process and its helpers (``--processes``)."""
    return _cpu([proc.pid, *_children(proc.pid)], reaped_of=proc.pid)


# --- load ---------------------------------------------------------------------------------------


def run_timed(port: int, path: str, make_body: Callable[[], Body], concurrency: int,
              seconds: float) -> LoadResult:
    """POST bodies made on the fly for ``seconds`` (then the requests under way finish),
    ``concurrency`` threads each with one keep-alive connection to 127.0.0.1:``port``."""
    deadline = [0.0]

    def start() -> None:
        deadline[0] = time.perf_counter() + seconds

    return post_bodies(port, path,
                       lambda: make_body() if time.perf_counter() < deadline[0] else None,
                       concurrency, on_start=start)


def xml_body(factory: BodyFactory) -> Callable[[], Body]:
    return lambda: factory.build(1, False)[0]


def warm_up(bench: Bench, server: Gunicorn, path: str,
            factory: BodyFactory | None = None) -> int:
    """Untimed: 20 requests per server thread, so that every pooled connection is open and its
    statements prepared, as bench_submissions does."""
    count = 20 * bench.settings.workers * bench.settings.threads
    result = run_load(server.port, path, (factory or bench.factory).build(count, False), 16)
    if result.failures:
        raise RuntimeError(f"warm-up of {server.name} failed: {result.failures[:3]}\n"
                           f"{server.log_tail()}")
    return count


def floor_slice(bench: Bench, floor: Gunicorn, seconds: float) -> tuple[LoadResult, Split]:
    split = Split(gunicorn_cpu(floor), bench.pg.read())
    load = run_timed(floor.port, bench.path, xml_body(bench.floor_factory),
                     bench.args.concurrency, seconds)
    return load, split.end(gunicorn_cpu(floor), bench.pg.read())


class Split:
    """Where the machine's CPU went during a phase: the servers' (app, PostgreSQL: read by the
    caller), the client's (this process: its threads post the bodies, and make them) and the
    idle CPU of the whole machine, in seconds. Tells a phase that used every core from one
    that waited (a rate limited by latency, not by CPU)."""

    def __init__(self, app: float, pg: float):
        self.start = (app, pg, time.process_time(), _idle(), time.perf_counter())
        self.used: tuple[float, ...] = ()

    def end(self, app: float, pg: float) -> Split:
        now = (app, pg, time.process_time(), _idle(), time.perf_counter())
        self.used = tuple(b - a for a, b in zip(self.start, now, strict=True))
        return self

    def describe(self, n: int) -> str:
        app, pg, client, idle, wall = self.used
        per = 1000 / n if n else float("nan")
        return (f"CPU ms/subm app {app * per:.2f}, PostgreSQL {pg * per:.2f}, client "
                f"{client * per:.2f}; idle {idle / wall:.2f} of {os.cpu_count()} cores")


def _idle() -> float:
    """The machine's idle CPU seconds since boot (idle and iowait of /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


# --- the phases -----------------------------------------------------------------------------


@dataclass
class Run:
    problems: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


def worker_alone(bench: Bench, run: Run) -> None:
    n = bench.args.n
    server = bench.ours("queue")
    try:
        before = counts(bench.dsn)
        stored = run_load(server.port, bench.path, bench.factory.build(n, False), 16)
    finally:
        bench.stop(server)
    if stored.failures or len(stored.latencies) != n:
        run.problems += [f"storing: {f}" for f in stored.failures[:5]]
        run.problems.append(f"storing: {len(stored.latencies)} answers for {n}")
    with psycopg.connect(bench.dsn, autocommit=True) as conn:
        waiting = received(conn)
    if waiting != n:
        run.problems.append(f"worker alone: {waiting} received before the take-in, not {n}")
    # The worker's pacing looks at the last second's arrivals: let it see an idle server.
    time.sleep(1.5)
    proc, log_path = bench.worker()
    app0, pg0, t0 = process_cpu(proc), bench.pg.read(), time.perf_counter()
    wait_until_taken_in(bench.dsn, timeout=max(600.0, n / 5),
                        applied=before.states.get("applied", 0) + n)
    seconds = time.perf_counter() - t0
    app, pg = process_cpu(proc) - app0, bench.pg.read() - pg0
    bench.stop(proc)
    if proc.returncode != 0:
        run.problems.append(f"fangpin worker exited {proc.returncode}:\n{tail(log_path)}")
    run.problems += taken_in_problems("worker alone", before, counts(bench.dsn), n)
    rate = n / seconds
    run.figures.update(alone_rate=rate, alone_app=app / n * 1000, alone_pg=pg / n * 1000)
    print(f"  worker alone: {n} households taken in in {seconds:.1f} s = {rate:.1f} households/s;"
          f" CPU per household: app {app / n * 1000:.2f} ms, PostgreSQL {pg / n * 1000:.2f} ms",
          flush=True)


def sustained(bench: Bench, run: Run) -> None:
    """Floor (first half), ours queued with the worker beside it, ours inline, floor (second
    half): the floor measured around ours in the same run."""
    seconds, conc = bench.args.seconds, bench.args.concurrency
    floor = bench.floor()
    warm_up(bench, floor, bench.path, bench.floor_factory)
    floor_results = [floor_slice(bench, floor, seconds / 2)]

    server = bench.ours("queue")
    proc, log_path = bench.worker()
    applied = counts(bench.dsn).states.get("applied", 0)
    applied += warm_up(bench, server, bench.path)
    wait_until_taken_in(bench.dsn, timeout=600, applied=applied)
    time.sleep(1.5)  # the warm-up's burst is over for the worker's pacing too
    before = counts(bench.dsn)
    app0, pg0 = gunicorn_cpu(server) + process_cpu(proc), bench.pg.read()
    split = Split(app0, pg0)
    load = run_timed(server.port, bench.path, xml_body(bench.factory), conc, seconds)
    backlog, drain = wait_until_taken_in(
        bench.dsn, timeout=3600, applied=before.states.get("applied", 0) + len(load.latencies))
    split.end(gunicorn_cpu(server) + process_cpu(proc), bench.pg.read())
    app, pg = split.used[0], split.used[1]
    bench.stop(proc)
    bench.stop(server)
    if proc.returncode != 0:
        run.problems.append(f"fangpin worker exited {proc.returncode}:\n{tail(log_path)}")
    answered = len(load.latencies)
    run.problems += [f"sustained: {f}" for f in load.failures[:5]]
    run.problems += taken_in_problems("sustained", before, counts(bench.dsn), answered)

    server = bench.ours("inline")
    warm_up(bench, server, bench.path)
    before = counts(bench.dsn)
    inline_app0, inline_pg0 = gunicorn_cpu(server), bench.pg.read()
    inline = run_timed(server.port, bench.path, xml_body(bench.factory), conc, seconds)
    inline_app, inline_pg = gunicorn_cpu(server) - inline_app0, bench.pg.read() - inline_pg0
    bench.stop(server)
    run.problems += [f"inline: {f}" for f in inline.failures[:5]]
    run.problems += taken_in_problems("inline", before, counts(bench.dsn), len(inline.latencies))

    floor_results.append(floor_slice(bench, floor, seconds / 2))
    bench.stop(floor)
    for result, _split in floor_results:
        run.problems += [f"floor: {f}" for f in result.failures[:5]]
    floor_rate = statistics.mean(r.rate for r, _split in floor_results)

    rate = answered / (load.wall + drain) if answered else 0.0
    inline_n = len(inline.latencies)
    run.figures.update(
        floor=floor_rate, answered=load.rate, answered_p99=load.percentile(99),
        backlog=backlog, drain=drain, sustained=rate, sustained_ratio=rate / floor_rate,
        sustained_app=app / answered * 1000 if answered else float("nan"),
        sustained_pg=pg / answered * 1000 if answered else float("nan"),
        inline=inline.rate, inline_p99=inline.percentile(99),
        inline_ratio=inline.rate / floor_rate,
        inline_app=inline_app / inline_n * 1000 if inline_n else float("nan"),
        inline_pg=inline_pg / inline_n * 1000 if inline_n else float("nan"),
    )
    slices = " and ".join(f"{r.rate:.1f}" for r, _split in floor_results)
    print(f"  floor: {floor_rate:.1f} subm/s ({slices} before and after ours), p99 "
          f"{max(r.percentile(99) for r, _split in floor_results):.0f} ms", flush=True)
    for when, (result, floor_split) in zip(("before", "after"), floor_results, strict=True):
        print(f"    floor {when}: {floor_split.describe(len(result.latencies))}", flush=True)
    print(f"  queue: {answered} answered in {load.wall:.1f} s ({load.rate:.1f}/s, p99 "
          f"{load.percentile(99):.0f} ms); backlog {backlog} taken in {drain:.1f} s after the "
          f"load; SUSTAINED {rate:.1f} subm/s = {rate / floor_rate:.3f} of the floor; CPU ms/subm"
          f" app+worker {run.figures['sustained_app']:.2f}, PostgreSQL "
          f"{run.figures['sustained_pg']:.2f}", flush=True)
    print(f"    queue, load and drain: {split.describe(answered)}", flush=True)
    print(f"  inline: {inline_n} answered and taken in in {inline.wall:.1f} s = "
          f"{inline.rate:.1f} subm/s = {inline.rate / floor_rate:.3f} of the floor, p99 "
          f"{inline.percentile(99):.0f} ms; CPU ms/subm app {run.figures['inline_app']:.2f}, "
          f"PostgreSQL {run.figures['inline_pg']:.2f}", flush=True)


def answering_alone(bench: Bench) -> list[str]:
    """Where the sustained rate's CPU goes, answering only: the floor and ours (``TAKE_IN=queue``,
    no worker) in turn, twice, each for ``--seconds`` / 2 of the same load; per submission the
    gunicorn CPU and PostgreSQL's. Returns its problems (answers other than 201)."""
    problems = []
    for name in ("floor", "ours", "floor", "ours"):
        floor = name == "floor"
        server = bench.floor() if floor else bench.ours("queue")
        factory = bench.floor_factory if floor else bench.factory
        try:
            warm_up(bench, server, bench.path, factory)
            app0, pg0 = gunicorn_cpu(server), bench.pg.read()
            load = run_timed(server.port, bench.path, xml_body(factory), bench.args.concurrency,
                             bench.args.seconds / 2)
            app, pg = gunicorn_cpu(server) - app0, bench.pg.read() - pg0
        finally:
            bench.stop(server)
        problems += [f"answering ({name}): {f}" for f in load.failures[:5]]
        n = len(load.latencies) or 1
        print(f"  answering alone, {name}: {load.rate:.1f} subm/s; CPU ms/subm gunicorn "
              f"{app / n * 1000:.2f}, PostgreSQL {pg / n * 1000:.2f}", flush=True)
    return problems


# --- report -------------------------------------------------------------------------------------


COLUMNS = (  # key, heading, format
    ("alone_rate", "alone hh/s", "{:.1f}"),
    ("alone_app", "app ms/hh", "{:.2f}"),
    ("alone_pg", "pg ms/hh", "{:.2f}"),
    ("floor", "floor/s", "{:.1f}"),
    ("answered", "queue ans/s", "{:.1f}"),
    ("sustained", "sustained/s", "{:.1f}"),
    ("sustained_ratio", "÷floor", "{:.3f}"),
    ("inline", "inline/s", "{:.1f}"),
    ("inline_p99", "inl p99 ms", "{:.0f}"),
    ("inline_ratio", "÷floor", "{:.3f}"),
)


def table(runs: list[Run]) -> str:
    width = 12
    lines = [f"{'':<7}" + "".join(f"{heading:>{width}}" for _, heading, _ in COLUMNS)]
    for i, run in enumerate(runs, 1):
        lines.append(f"{f'run {i}':<7}" + "".join(
            f"{fmt.format(run.figures[key]) if key in run.figures else '-':>{width}}"
            for key, _, fmt in COLUMNS))
    lines.append(f"{'median':<7}" + "".join(
        f"{fmt.format(median(runs, key)):>{width}}" for key, _, fmt in COLUMNS))
    return "\n".join(lines)


def median(runs: list[Run], key: str) -> float:
    values = [run.figures[key] for run in runs if key in run.figures]
    return statistics.median(values) if values else float("nan")


def worker_defaults() -> str:
    """The options ``fangpin worker`` runs with unless told, from its --help: "--batch 100 …"."""
    done = subprocess.run([sys.executable, "-m", "server.cli", "worker", "--help"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True)
    options = re.findall(r"(--[a-z-]+)\s+[A-Z]+\s.*?\[default:\s*([^\]]+)\]",
                         " ".join(done.stdout.split()))
    return " ".join(f"{name} {value}" for name, value in options) or "?"


def header(bench: Bench) -> str:
    args = bench.args
    pg = subprocess.run(["postgres", "--version"], capture_output=True, text=True).stdout.strip()
    worker = shlex.join(["fangpin", "worker", *args.worker_args])
    return "\n".join([
        "=" * 78,
        "fangpin take-in benchmark (issue 16): the worker alone, and the sustained rate with it",
        f"machine: nproc={len(os.sched_getaffinity(0))}, {platform.machine()}, Python "
        f"{platform.python_version()}, {pg}, fsync on",
        f"runs: {args.runs}; worker alone: N={args.n} new 3-person households stored as received,"
        f" then `{worker}` alone (normal priority, gunicorn stopped)",
        f"sustained: XML only, valid new 3-person households, concurrency {args.concurrency}, "
        f"{args.seconds:.0f} s of load then the drain; `{worker}` beside gunicorn at normal "
        "priority with the command's own pacing (what a deployment runs: the time it waits "
        "during the burst is charged to the rate); sustained = answered / (load + drain)",
        f"fangpin worker's defaults: {worker_defaults()}",
        f"floor: tests/bench/floor_app.py, {args.seconds / 2:.0f} s before and "
        f"{args.seconds / 2:.0f} s after ours, averaged; inline: TAKE_IN=inline, same load",
        f"servers: {bench.settings.describe()}; client on the same machine; CPU: app = gunicorn "
        "(master+workers) + the worker process, PostgreSQL = postmaster and all its children",
        "=" * 78,
    ])


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, help="households for the worker alone (default 3000)")
    parser.add_argument("--seconds", type=float, help="seconds of load (default 60)")
    parser.add_argument("--runs", type=int, help="runs; each is printed, then the median "
                                                 "(default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: N=300, 10 s of load, one run")
    parser.add_argument("--concurrency", type=int, default=16, help="default 16")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument("--worker-args", type=shlex.split, default=[],
                        help='extra arguments of `fangpin worker`, e.g. "--busy-rate 0"')
    parser.add_argument("--answering-only", action="store_true",
                        help="only answering, without the take-in: the floor and ours (queue, "
                             "no worker) in turn, twice, --seconds / 2 each, with their CPU")
    parser.add_argument("--no-sustained", action="store_true",
                        help="only the worker alone")
    args = parser.parse_args(argv)
    args.n = args.n or (300 if args.quick else 3000)
    args.seconds = args.seconds or (10.0 if args.quick else 60.0)
    args.runs = args.runs or (1 if args.quick else 3)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fangpin-takein-")))
        print("starting PostgreSQL and seeding…", flush=True)
        server_url = stack.enter_context(running_postgres(durable=True))
        dbs = prepare_databases(server_url)
        bench = Bench(args, dbs, GunicornSettings(args.workers, args.threads), work,
                      PgCpu(server_url), BodyFactory(dbs.version), BodyFactory(dbs.version))
        stack.callback(bench.stop_all)
        print(header(bench), flush=True)
        if args.answering_only:
            problems = answering_alone(bench)
            for problem in problems:
                print(f"    FAILURE: {problem}", flush=True)
            return 1 if problems else 0
        runs = []
        for i in range(args.runs):
            print(f"run {i + 1}", flush=True)
            run = Run()
            runs.append(run)
            worker_alone(bench, run)
            if not args.no_sustained:
                sustained(bench, run)
            for problem in run.problems:
                print(f"    FAILURE: {problem}", flush=True)
        print("\n" + table(runs))
        print("=" * 78)
        ratio = median(runs, "sustained_ratio")
        if not args.no_sustained:
            verdict = "MEETS" if ratio >= TARGET_SUSTAINED else "MISSES"
            print(f"HEADLINE: sustained rate including the take-in, XML-only at concurrency "
                  f"{args.concurrency}: {median(runs, 'sustained'):.1f} subm/s / floor "
                  f"{median(runs, 'floor'):.1f} = {ratio:.3f} of the floor ({verdict} target "
                  f"{TARGET_SUSTAINED}; median of {len(runs)})")
            print(f"          inline: {median(runs, 'inline'):.1f} subm/s = "
                  f"{median(runs, 'inline_ratio'):.3f} of the floor, p99 "
                  f"{median(runs, 'inline_p99'):.0f} ms")
        rate = median(runs, "alone_rate")
        verdict = "MEETS" if rate >= TARGET_WORKER else "MISSES"
        print(f"WORKER ALONE: {rate:.1f} new households/s ({verdict} target {TARGET_WORKER:.0f});"
              f" take-in CPU per household: app {median(runs, 'alone_app'):.2f} ms + PostgreSQL "
              f"{median(runs, 'alone_pg'):.2f} ms")
        problems = sum(len(run.problems) for run in runs)
        if problems:
            print(f"FAILED: {problems} problems (above): the figures measured failures")
            return 1
        print("every answer was 201 and every submission was taken in as applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
