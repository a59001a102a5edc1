"""Fixtures: a fresh database per test on SQLite and on a real PostgreSQL, the app, a live server.

Each backend gets a template database once per session (migrated with Alembic and seeded); every
test then works on its own copy: a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for
PostgreSQL. HTTP tests talk to a real HTTP server (werkzeug, threaded) on 127.0.0.1.

Run in parallel (``make test``: pytest-xdist, ``-n auto --dist loadgroup``), each worker process
has its own session fixtures: its own PostgreSQL cluster on its own port, its own SQLite template
under its own tmp_path_factory, its own moto S3 server; PostgreSQL database names carry the
worker's name besides (``tests.support.postgres.database_name``).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from hypothesis import settings

from server import create_app
from server.config import PROJECT_ROOT
from server.db import make_engine
from server.migrate import upgrade
from tests.support.postgres import (
    database_name,
    execute_as_admin,
    on_database,
    running_postgres,
)
from tests.support.s3server import running_s3_server
from tests.support.seed import Seeded, seed
from tests.support.serving import serving

# Speed is measured in benchmarks, not in tests: no Hypothesis deadline (on a busy 2-core machine
# a first example that warms a cache up took 268 ms against the default 200 ms, and failed).
settings.register_profile("fangpin", deadline=None)
settings.load_profile("fangpin")

XLSFORMS = PROJECT_ROOT / "xlsforms"
BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep ``xdist_group`` marks working on pytest 9.2: loadgroup tells the scheduler an item's
    group by suffixing its node id (``…@group``), and pytest-xdist 3.8 writes the suffix to
    ``Node._nodeid``, which pytest 9.2 no longer reads (node ids are structured, ``Node._id``),
    so every group was silently spread over the workers (pytest-dev/pytest-xdist#1386). Runs
    after xdist's own hook and only where its suffix is missing."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                        for mark in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = NodeId.parse(item.nodeid + suffix)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with running_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint URL of a moto S3 server on 127.0.0.1 (a free port), one per test process."""
    with running_s3_server() as endpoint_url:
        yield endpoint_url


def _prepare(url: str) -> Seeded:
    upgrade(url)
    engine = make_engine(url)
    with sa.orm.Session(engine) as session, session.begin():
        seeded = seed(session, XLSFORMS)
    engine.dispose()
    return seeded


@dataclass
class Template:
    url: str
    seeded: Seeded


@pytest.fixture(scope="session")
def templates() -> dict[str, Template]:
    """Built lazily: a run that only touches SQLite never starts PostgreSQL."""
    return {}


def _template(backend: str, templates: dict, request, tmp_path_factory) -> Template:
    if backend not in templates:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.sqlite3'}"
        else:
            server = request.getfixturevalue("postgres_server")
            name = database_name("fangpin_template")
            # (left over from an interrupted run on a server of FANGPIN_TEST_POSTGRES_URL)
            execute_as_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                             f"CREATE DATABASE {name}")
            url = on_database(server, name)
        templates[backend] = Template(url, _prepare(url))
    return templates[backend]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@dataclass
class TestDatabase:
    url: str
    seeded: Seeded


@pytest.fixture
def database(backend, templates, request, tmp_path_factory, tmp_path) -> Iterator[TestDatabase]:
    """A migrated, seeded database of the test's own."""
    template = _template(backend, templates, request, tmp_path_factory)
    if backend == "sqlite":
        source = Path(sa.make_url(template.url).database)
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(source, target)
        yield TestDatabase(f"sqlite:///{target}", template.seeded)
        return
    server = request.getfixturevalue("postgres_server")
    name = database_name(f"fangpin_test_{next(_counter)}")
    template_name = sa.make_url(template.url).database
    execute_as_admin(server, f"CREATE DATABASE {name} TEMPLATE {template_name}")
    yield TestDatabase(on_database(server, name), template.seeded)
    execute_as_admin(server, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def empty_database(backend, request, tmp_path) -> Iterator[str]:
    """The URL of an empty database of the test's own: no table, no row."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = database_name(f"fangpin_empty_{next(_counter)}")
    execute_as_admin(server, f"CREATE DATABASE {name}")
    yield on_database(server, name)
    execute_as_admin(server, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def app_config(database, tmp_path) -> dict:
    return {
        "DATABASE_URL": database.url,
        "MEDIA_STORE": str(tmp_path / "media"),
        "PUBLIC_URL": "http://phones.example",
        "MAX_SUBMISSION_BYTES": 2 * 1024 * 1024,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    yield app
    app.extensions["fangpin.db"].engine.dispose()


@pytest.fixture
def db(app_config) -> Iterator[sa.orm.Session]:
    """A session on the test's database, beside the app's (to check what requests wrote)."""
    engine = make_engine(app_config["DATABASE_URL"])
    with sa.orm.Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def seeded(backend, templates, request, tmp_path_factory) -> Seeded:
    """What the template was seeded with (every copy of it, and the shared database, has it)."""
    return _template(backend, templates, request, tmp_path_factory).seeded


@pytest.fixture(scope="session")
def shared_engines() -> Iterator[dict[str, sa.Engine]]:
    """One copy of the template per backend and test process, for rolled-back sessions."""
    engines: dict[str, sa.Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


def _shared_engine(backend, shared_engines, templates, request, tmp_path_factory) -> sa.Engine:
    if backend not in shared_engines:
        template = _template(backend, templates, request, tmp_path_factory)
        if backend == "sqlite":
            target = tmp_path_factory.mktemp("shared") / "shared.sqlite3"
            shutil.copyfile(Path(sa.make_url(template.url).database), target)
            url = f"sqlite:///{target}"
        else:
            server = request.getfixturevalue("postgres_server")
            name = database_name("fangpin_shared")
            template_name = sa.make_url(template.url).database
            execute_as_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                             f"CREATE DATABASE {name} TEMPLATE {template_name}")
            url = on_database(server, name)
        shared_engines[backend] = make_engine(url)
    return shared_engines[backend]


@pytest.fixture
def rolled_back_session(backend, shared_engines, templates, request,
                        tmp_path_factory) -> Iterator[sa.orm.Session]:
    """A session inside one outer transaction on the test process's shared database, rolled
    back after the test: SQLAlchemy's recipe for joining a session into an external transaction
    (``join_transaction_mode="create_savepoint"``), so the test's ``commit()`` and ``rollback()``
    end savepoints and the next test finds the template's rows again. It saves the copy of the
    template (on PostgreSQL a CREATE and a DROP DATABASE, ~0.3-0.5 s a test).

    Only for tests that call services within this one session and do not test commit
    semantics: no HTTP server, no second connection, no locking, no migration, and no ingest
    (on PostgreSQL a new submission is one autocommitted statement on the engine's twin, which
    a connection-bound session does not reach: it would silently run SQLite's statements)."""
    engine = _shared_engine(backend, shared_engines, templates, request, tmp_path_factory)
    with engine.connect() as connection:
        transaction = connection.begin()
        session = sa.orm.Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app behind a real HTTP server on 127.0.0.1; yields its base URL."""
    with serving(app) as url:
        yield url
