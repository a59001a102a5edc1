"""A throwaway PostgreSQL server for tests and benchmarks, from the machine's own binaries.

``running_postgres()`` runs initdb into a temporary folder, starts the server on a free port of
127.0.0.1 and yields a SQLAlchemy URL to its ``postgres`` database; it stops and removes the
cluster afterwards. PostgreSQL refuses to run as root, so as root the cluster is owned by and run
as the ``postgres`` user that Debian's package creates. ``FANGPIN_TEST_POSTGRES_URL`` points the
tests at an existing server instead.

Under pytest-xdist every worker process runs its own cluster (its own data folder and port), and
the databases the tests create carry the worker's name (``database_name``), so that workers never
meet even on one server given by ``FANGPIN_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    raise PostgresUnavailable(
        f"PostgreSQL's {name} was not found: install it (Debian: apt-get install postgresql) "
        "or set FANGPIN_TEST_POSTGRES_URL"
    )


_START_ATTEMPTS = 3


def worker_name() -> str:
    """The pytest-xdist worker running this process (``gw0``, ``gw1`` …), "" when serial."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def database_name(base: str) -> str:
    """``base`` made this test process's own: ``fangpin_template_gw0`` under xdist worker gw0,
    ``base`` itself in a serial run."""
    worker = worker_name()
    return f"{base}_{worker}" if worker else base


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class Cluster:
    """A throwaway PostgreSQL cluster of this machine's binaries that a test may stop and start
    again (a database restart, an outage), on the same port and data."""

    def __init__(self, durable: bool = False, statements: bool = False) -> None:
        self.durable = durable
        self.statements = statements  # pg_stat_statements loaded (a benchmark's counts)
        self.root = Path(tempfile.mkdtemp(prefix="fangpin-pg-"))
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = 0
        self._pg_ctl = _binary("pg_ctl")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def create(self) -> None:
        self.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")
        subprocess.run(
            _as_owner([_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"]),
            check=True, capture_output=True,
        )
        # The free port is only free when it was looked up: another process (a parallel test
        # worker starting its own cluster, say) may take it first. Then start on another one.
        for attempt in range(_START_ATTEMPTS):
            self.port = free_port()
            try:
                self.start()
                return
            except subprocess.CalledProcessError:
                if attempt == _START_ATTEMPTS - 1:
                    raise

    def start(self) -> None:
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.sockets}",
                   "-c max_connections=200", "-c shared_buffers=256MB"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        if self.statements:
            options += ["-c shared_preload_libraries=pg_stat_statements"]
        subprocess.run(
            _as_owner([self._pg_ctl, "-D", str(self.data), "-l", str(self.log),
                       "-o", " ".join(options), "-w", "-t", "60", "start"]),
            check=True, capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (clients disconnected, as a restart does) or
        ``immediate`` (a crash)."""
        subprocess.run(_as_owner([self._pg_ctl, "-D", str(self.data), "-m", mode, "-w",
                                  "stop"]), capture_output=True)

    def start_if_stopped(self) -> None:
        status = subprocess.run(_as_owner([self._pg_ctl, "-D", str(self.data), "status"]),
                                capture_output=True)
        if status.returncode != 0:
            self.start()

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def running_cluster(durable: bool = False, statements: bool = False) -> Iterator[Cluster]:
    """A ``Cluster`` created and started for the block, removed afterwards."""
    cluster = Cluster(durable, statements)
    try:
        cluster.create()
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace")
        if cluster.log.exists():
            detail += cluster.log.read_text(errors="replace")
        shutil.rmtree(cluster.root, ignore_errors=True)
        raise PostgresUnavailable(f"PostgreSQL did not start: {detail}") from exc
    try:
        yield cluster
    finally:
        cluster.remove()


@contextmanager
def running_postgres(durable: bool = False, statements: bool = False) -> Iterator[str]:
    """Yield ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``.

    ``durable=False`` (tests) turns off fsync and synchronous commit; benchmarks pass True so
    that commits cost what they cost in production. ``statements``: the server loads
    pg_stat_statements (a database still has to ``CREATE EXTENSION`` it; a server given by
    ``FANGPIN_TEST_POSTGRES_URL`` may not have it).
    """
    existing = os.environ.get("FANGPIN_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    with running_cluster(durable, statements) as cluster:
        yield cluster.url


def on_database(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``."""
    import sqlalchemy as sa

    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def execute_as_admin(server_url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE)."""
    import sqlalchemy as sa

    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()
