"""Benchmark of the production path (issue 15, point 13): ingest through the proxy, and a soak.

Run from the project root:

    .venv/bin/python -m tests.bench.bench_production [--quick] [--n N] [--n-media N]
        [--concurrency 64] [--soak-seconds 600] [--soak-rate 20] [--modes inline,queue]

What it does:

1. a throwaway PostgreSQL (``running_postgres(durable=True)``: fsync on) and the S3-compatible
   server (moto's ``moto_server``, its own process); per take-in mode a database of its own,
   migrated and seeded by the project's code, and a bucket of its own;
2. per mode, the production stack of ``tests/support/production.py``: ``--instances`` gunicorns
   with ``deploy/gunicorn.conf.py`` behind nginx with the shipped site (``deploy/nginx/``, TLS
   with a certificate made for the run), media in S3; ``TAKE_IN=queue`` adds ``--take-in-workers``
   ``fangpin worker`` processes with their default pacing;
3. the ingest load of ``bench_submissions`` (its ``run_load``: one keep-alive connection per
   client thread, here HTTPS to nginx, verified against the run's certificate) at
   ``--concurrency`` (64): XML only (new households of 3), then XML + a ~300 KB JPEG + a ~20 KB
   PNG; it prints submissions/s, p50/p95/p99 and the answers other than 201 (must be 0); in
   queue mode, the seconds after the load until every submission was taken in; at the end of a
   mode every submission must be ``applied``;
4. the soak (in ``--soak-mode``, queue by default, on the same stack after its bursts): a steady
   ``--soak-rate`` per second for ``--soak-seconds`` (open loop: the i-th request is due at
   i / rate s, whatever the answers before it), ``--soak-media`` of them with the photo and
   signature; every 10 s it samples the RSS and open file descriptors of every gunicorn worker
   and ``fangpin worker``, the PostgreSQL connections of the database (``pg_stat_activity``),
   the backlog (``received``) and how long its oldest has waited; it prints the table, the
   growth first → last, errors and p99.

Everything runs on one machine (client, nginx, gunicorns, workers, PostgreSQL, S3): the client's
TLS and Python threads take a good part of the CPU; absolute figures are this machine's.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import platform
import queue
import random
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests
import sqlalchemy as sa
import sqlalchemy.orm

from server.config import PROJECT_ROOT
from server.db import make_engine
from server.migrate import upgrade
from tests.bench.bench_submissions import (
    Body,
    BodyFactory,
    Connect,
    LoadResult,
    _children,
    run_load,
)
from tests.support.postgres import free_port, running_postgres
from tests.support.production import BIN, Stack, running_stack
from tests.support.s3server import CREDENTIALS, REGION, s3_client
from tests.support.seed import seed

SAMPLE_EVERY = 10.0
MB = 1024 * 1024


# --- the parts --------------------------------------------------------------------------------


@contextlib.contextmanager
def running_s3(folder: Path) -> Iterator[str]:
    """moto's S3 server in a process of its own (its objects live in that process's memory)."""
    port = free_port()
    with open(folder / "moto.log", "wb") as log:
        process = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.RequestException):
                    requests.get(endpoint, timeout=2)
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start: see " + str(log.name))
                time.sleep(0.2)
            yield endpoint
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Database:
    url: str  # SQLAlchemy
    dsn: str  # libpq
    name: str
    token: str
    version: str


def prepare_database(server_url: str, name: str) -> Database:
    admin = sa.make_url(server_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    with sa.orm.Session(engine) as session, session.begin():
        seeded = seed(session, PROJECT_ROOT / "xlsforms")
    engine.dispose()
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return Database(url, dsn, name, seeded.tokens["helper"], seeded.form_versions["household"])


def environment(db: Database, endpoint: str | None, bucket: str, folder: Path,
                mode: str) -> dict:
    """The instances' settings; media in S3, or (``endpoint`` None) in a local folder."""
    media = {"MEDIA_STORE": str(folder / "media")} if endpoint is None else {
        "MEDIA_STORE": f"s3://{bucket}/media",
        "S3_ENDPOINT_URL": endpoint, "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
    }
    return {
        "DATABASE_URL": db.url, **media,
        "TAKE_IN": mode, "TRUSTED_PROXIES": "1", "SECRET_KEY": "bench-production",
        "FANGPIN_INSTANCE": str(folder / "instance"), "PUBLIC_URL": "https://127.0.0.1",
        "WEB_MAX_REQUESTS": "1000000",  # no recycled worker in the middle of the soak's samples
    }


def https_connect(stack: Stack) -> Connect:
    """Keep-alive HTTPS connections to nginx, verified against the run's certificate."""
    port = int(stack.url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=str(stack.certificate))

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=120, context=context)

    return connect


def submission_path(db: Database) -> str:
    return f"/key/{db.token}/submission?deviceID=collect:bench"


def states(db: Database) -> dict[str, int]:
    with psycopg.connect(db.dsn) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM submissions GROUP BY state"))


def wait_taken_in(db: Database, timeout: float = 900) -> tuple[int, float]:
    """(backlog when called, seconds until no submission is ``received``)."""
    query = "SELECT count(*) FROM submissions WHERE state = 'received'"
    began = time.monotonic()
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        backlog = left = conn.execute(query).fetchone()[0]
        while left and time.monotonic() - began < timeout:
            time.sleep(0.05)
            left = conn.execute(query).fetchone()[0]
    if left:
        raise RuntimeError(f"{left} submissions still received after {timeout:.0f} s")
    return backlog, time.monotonic() - began


# --- bursts -----------------------------------------------------------------------------------


@dataclass
class Burst:
    mode: str
    case: str
    result: LoadResult
    backlog: int = 0
    drain: float = 0.0


def _burst_row(b: Burst) -> str:
    r = b.result
    queued = f"{b.backlog:>7} {b.drain:>8.1f}" if b.mode == "queue" else f"{'':>7} {'':>8}"
    return (f"{b.mode:<6} {b.case:<5} {len(r.latencies) + len(r.failures):>6} {r.rate:>7.1f} "
            f"{r.percentile(50):>7.0f} {r.percentile(95):>7.0f} {r.percentile(99):>7.0f} "
            f"{len(r.failures):>7} {queued}")


BURST_HEAD = (f"{'mode':<6} {'case':<5} {'sent':>6} {'subm/s':>7} {'p50':>7} {'p95':>7} "
              f"{'p99':>7} {'non-201':>7} {'backlog':>7} {'taken s':>8}")


def run_bursts(args, mode: str, db: Database, stack: Stack, factory: BodyFactory) -> list[Burst]:
    connect, path = https_connect(stack), submission_path(db)
    bursts = []
    for case, media, count in (("xml", False, args.n), ("media", True, args.n_media)):
        bodies = factory.build(count, media)
        result = run_load(0, path, bodies, args.concurrency, connect)
        burst = Burst(mode, case, result)
        if mode == "queue":
            burst.backlog, burst.drain = wait_taken_in(db)
        bursts.append(burst)
        print(_burst_row(burst), flush=True)
        for failure in result.failures[:5]:
            print(f"    FAILURE: {failure}")
    return bursts


# --- soak -------------------------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def app_processes(stack: Stack) -> dict[str, int]:
    """label → pid: every gunicorn worker (``webN.M``) and every ``fangpin worker``."""
    found = {}
    for name, process in sorted(stack.processes.items()):
        if name.startswith("web"):
            for m, pid in enumerate(_children(process.pid)):
                found[f"{name}.{m}"] = pid
        elif name.startswith("worker"):
            found[name] = process.pid
    return found


@dataclass
class Sample:
    at: float
    sent: int
    errors: int
    rss_kb: dict[str, int]
    fds: dict[str, int]
    pg_connections: int
    backlog: int
    oldest_waited: float


@dataclass
class Soak:
    rate: float
    seconds: float
    result: LoadResult = field(default_factory=LoadResult)
    samples: list[Sample] = field(default_factory=list)
    late: int = 0  # requests sent more than 1 s after they were due (the client fell behind)
    pids_changed: list[str] = field(default_factory=list)


def sample(stack: Stack, pids: dict[str, int], conn: psycopg.Connection, db: Database,
           began: float, soak: Soak, lock: threading.Lock) -> Sample:
    rss, fds = {}, {}
    now_pids = app_processes(stack)
    for label, pid in pids.items():
        if now_pids.get(label) != pid and label not in soak.pids_changed:
            soak.pids_changed.append(label)
        with contextlib.suppress(OSError):
            rss[label] = _status_kb(pid, "VmRSS")
            fds[label] = _fds(pid)
    connections = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                               "AND pid <> pg_backend_pid()", [db.name]).fetchone()[0]
    backlog, oldest = conn.execute(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(received_at)), 0) "
        "FROM submissions WHERE state = 'received'").fetchone()
    with lock:
        sent, errors = len(soak.result.latencies) + len(soak.result.failures), \
            len(soak.result.failures)
    return Sample(time.monotonic() - began, sent, errors, rss, fds, connections, backlog,
                  float(oldest))


def run_soak(args, db: Database, stack: Stack, factory: BodyFactory) -> Soak:
    """Open loop: request i is due at i / rate s; ``--soak-clients`` threads send them."""
    connect, path = https_connect(stack), submission_path(db)
    soak = Soak(args.soak_rate, args.soak_seconds)
    total = round(args.soak_rate * args.soak_seconds)
    due: queue.Queue[tuple[float, Body] | None] = queue.Queue()
    lock = threading.Lock()
    rng = random.Random(15)
    pids = app_processes(stack)

    def client() -> None:
        conn = connect()
        while (item := due.get()) is not None:
            when, body = item
            began = time.monotonic()
            if began - when > 1.0:
                with lock:
                    soak.late += 1
            try:
                conn.request("POST", path, body=body.data, headers=body.headers)
                response = conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    soak.result.failures.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = connect()
                continue
            with lock:
                if response.status == 201:
                    soak.result.latencies.append(time.monotonic() - began)
                else:
                    soak.result.failures.append(
                        f"HTTP {response.status} {response.getheader('X-Error-Code')} "
                        f"{answer[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.soak_clients)]
    for thread in threads:
        thread.start()
    stop = threading.Event()
    began = time.monotonic()

    def sampler() -> None:
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            n = 0
            while True:
                soak.samples.append(sample(stack, pids, conn, db, began, soak, lock))
                n += 1
                if stop.wait(max(0.0, began + n * SAMPLE_EVERY - time.monotonic())):
                    soak.samples.append(sample(stack, pids, conn, db, began, soak, lock))
                    return

    sampling = threading.Thread(target=sampler, daemon=True)
    sampling.start()
    for i in range(total):
        when = began + i / args.soak_rate
        body = factory.build(1, rng.random() < args.soak_media)[0]
        delay = when - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        due.put((when, body))
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    soak.result.wall = time.monotonic() - began
    stop.set()
    sampling.join()
    return soak


def print_soak(soak: Soak) -> None:
    labels = list(soak.samples[0].rss_kb)
    print(f"\nsoak: {soak.rate:g}/s for {soak.seconds:g} s, sampled every {SAMPLE_EVERY:g} s; "
          f"RSS in MiB, fds = open file descriptors, pg = connections to the database, "
          f"backlog = received, oldest = s the oldest received has waited")
    print(f"{'t s':>5} {'sent':>6} {'err':>4} "
          + " ".join(f"{label + ' RSS':>12}" for label in labels) + " "
          + " ".join(f"{label + ' fds':>12}" for label in labels)
          + f" {'pg':>4} {'backlog':>7} {'oldest':>6}")
    for s in soak.samples:
        print(f"{s.at:>5.0f} {s.sent:>6} {s.errors:>4} "
              + " ".join(f"{s.rss_kb.get(label, 0) / 1024:>12.1f}" for label in labels) + " "
              + " ".join(f"{s.fds.get(label, 0):>12}" for label in labels)
              + f" {s.pg_connections:>4} {s.backlog:>7} {s.oldest_waited:>6.1f}")
    # growth from the first sample after the first minute (caches warm) to the last
    first = next((s for s in soak.samples if s.at >= 60), soak.samples[0])
    last = soak.samples[-1]
    print(f"growth from t={first.at:.0f} s to t={last.at:.0f} s:")
    for label in labels:
        print(f"  {label:<10} RSS {first.rss_kb.get(label, 0) / 1024:7.1f} → "
              f"{last.rss_kb.get(label, 0) / 1024:7.1f} MiB "
              f"({(last.rss_kb.get(label, 0) - first.rss_kb.get(label, 0)) / 1024:+.1f}); "
              f"fds {first.fds.get(label, 0)} → {last.fds.get(label, 0)}")
    print(f"  PostgreSQL connections {first.pg_connections} → {last.pg_connections} "
          f"(max {max(s.pg_connections for s in soak.samples)}); backlog max "
          f"{max(s.backlog for s in soak.samples)}, oldest waited max "
          f"{max(s.oldest_waited for s in soak.samples):.1f} s")
    r = soak.result
    print(f"  sent {len(r.latencies) + len(r.failures)} in {r.wall:.0f} s "
          f"({(len(r.latencies) + len(r.failures)) / r.wall:.1f}/s), non-201 or errors "
          f"{len(r.failures)}, p50 {r.percentile(50):.0f} ms, p99 {r.percentile(99):.0f} ms, "
          f"max {max(r.latencies, default=0) * 1000:.0f} ms; sent > 1 s late {soak.late}")
    if soak.pids_changed:
        print(f"  processes replaced during the soak (their figures are not one process's): "
              f"{', '.join(soak.pids_changed)}")
    for failure in r.failures[:5]:
        print(f"    FAILURE: {failure}")


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: N=300, 60 with media, a 60 s soak")
    parser.add_argument("--n", type=int, help="XML-only submissions per mode (default 2000)")
    parser.add_argument("--n-media", type=int, help="with media, per mode (default 300)")
    parser.add_argument("--concurrency", type=int, default=64, help="clients (default 64)")
    parser.add_argument("--modes", default="inline,queue", help="take-in modes (inline,queue)")
    parser.add_argument("--instances", type=int, default=2, help="gunicorns behind nginx (2)")
    parser.add_argument("--web-workers", type=int, default=1,
                        help="worker processes per gunicorn (default 1)")
    parser.add_argument("--web-threads", type=int, default=8,
                        help="threads per gunicorn worker (default 8)")
    parser.add_argument("--take-in-workers", type=int, default=2,
                        help="fangpin worker processes in queue mode (default 2)")
    parser.add_argument("--worker-args", default="",
                        help="extra arguments of fangpin worker, e.g. '--busy-rate 0'")
    parser.add_argument("--media", choices=("s3", "local"), default="s3",
                        help="media store: S3 (moto_server, default) or a local folder")
    parser.add_argument("--soak-seconds", type=float,
                        help="soak length (default 600; --quick 60; 0: no soak)")
    parser.add_argument("--soak-rate", type=float, default=20.0,
                        help="submissions per second in the soak (default 20)")
    parser.add_argument("--soak-media", type=float, default=0.1,
                        help="share of soak submissions with photo and signature (default 0.1)")
    parser.add_argument("--soak-mode", default="queue", help="take-in mode of the soak (queue)")
    parser.add_argument("--soak-clients", type=int, default=16,
                        help="client threads sending the soak's requests (default 16)")
    args = parser.parse_args(argv)
    args.n = args.n if args.n is not None else (300 if args.quick else 2000)
    args.n_media = args.n_media if args.n_media is not None else (60 if args.quick else 300)
    if args.soak_seconds is None:
        args.soak_seconds = 60.0 if args.quick else 600.0
    args.modes = [m for m in args.modes.split(",") if m]
    if args.soak_seconds and args.soak_mode not in args.modes:
        args.modes.append(args.soak_mode)
    return args


def header(args) -> str:
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    pg = subprocess.run(["postgres", "--version"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    return "\n".join([
        "=" * 78,
        "fangpin production benchmark (issue 15.13): ingest through nginx (TLS), and a soak",
        f"machine: nproc={len(os.sched_getaffinity(0))}, {platform.machine()}, Python "
        f"{platform.python_version()}, {pg}, {nginx}; load average at start "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        f"stack: nginx (deploy/nginx/fangpin.conf, TLS) → {args.instances} gunicorns "
        f"(deploy/gunicorn.conf.py, {args.web_workers} worker × {args.web_threads} threads each)"
        f", PostgreSQL (fsync on), media {'moto S3' if args.media == 's3' else 'local'}; "
        f"queue mode: {args.take_in_workers} fangpin worker "
        f"{args.worker_args or '(default pacing)'}",
        f"bursts: concurrency {args.concurrency}, {args.n} XML-only and {args.n_media} with "
        f"~320 KB of media, new households of 3; latency ms, client to nginx over TLS",
        "=" * 78,
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    problems: list[str] = []
    bursts: list[Burst] = []
    soak: Soak | None = None
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fangpin-prod-")))
        print("starting PostgreSQL and the media store…", flush=True)
        server_url = stack.enter_context(running_postgres(durable=True))
        endpoint = stack.enter_context(running_s3(work)) if args.media == "s3" else None
        print(header(args), flush=True)
        print(BURST_HEAD, flush=True)
        for mode in args.modes:
            db = prepare_database(server_url, f"fangpin_{mode}")
            bucket = f"fangpin-{mode}"
            if endpoint:
                s3_client(endpoint).create_bucket(Bucket=bucket)
            folder = work / mode
            folder.mkdir()
            workers = args.take_in_workers if mode == "queue" else 0
            factory = BodyFactory(db.version)
            with running_stack(folder, environment(db, endpoint, bucket, folder, mode),
                               instances=args.instances, workers=workers,
                               worker_args=tuple(args.worker_args.split()),
                               web_workers=args.web_workers,
                               web_threads=args.web_threads) as started:
                # Untimed: every gunicorn thread opens its connections, imports lazily.
                warm = args.instances * args.web_workers * args.web_threads * 10
                result = run_load(0, submission_path(db), factory.build(warm, False), 16,
                                  https_connect(started))
                if result.failures:
                    raise RuntimeError(f"warm-up failed: {result.failures[:3]}\n"
                                       + started.log("web0")[-3000:])
                if mode == "queue":
                    wait_taken_in(db)
                sent = warm
                if args.n or args.n_media:
                    mode_bursts = run_bursts(args, mode, db, started, factory)
                    bursts += mode_bursts
                    sent += sum(len(b.result.latencies) for b in mode_bursts)
                if mode == args.soak_mode and args.soak_seconds:
                    print(f"soak: {args.soak_rate:g}/s for {args.soak_seconds:g} s in {mode} "
                          f"mode…", flush=True)
                    soak = run_soak(args, db, started, factory)
                    sent += len(soak.result.latencies)
                    if mode == "queue":
                        wait_taken_in(db)
                    print_soak(soak)
            counted = states(db)
            stored = sum(counted.values())
            print(f"{mode}: submissions by state {counted} (201 answers: {sent})", flush=True)
            if stored != sent or counted.get("applied", 0) != sent:
                problems.append(f"{mode}: {counted} for {sent} answers of 201")

    print("\n" + "=" * 78)
    for b in bursts:
        r = b.result
        taken = f", all taken in {b.drain:.1f} s after the load" if b.mode == "queue" else ""
        print(f"{b.mode:<6} {b.case:<5} conc {args.concurrency}: {r.rate:.0f}/s, p50 "
              f"{r.percentile(50):.0f} ms, p99 {r.percentile(99):.0f} ms, non-201 "
              f"{len(r.failures)}{taken}")
    failures = sum(len(b.result.failures) for b in bursts)
    if soak:
        r = soak.result
        print(f"soak {soak.rate:g}/s × {soak.seconds:g} s: errors {len(r.failures)}, p99 "
              f"{r.percentile(99):.0f} ms, backlog max {max(s.backlog for s in soak.samples)}, "
              f"oldest waited max {max(s.oldest_waited for s in soak.samples):.0f} s")
        failures += len(r.failures)
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for problem in problems:
        print(f"NOT STORED OR NOT APPLIED: {problem}")
    if failures or problems:
        print(f"FAILED: {failures} answers other than 201")
        return 1
    print("all responses were 201 and every submission was applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
