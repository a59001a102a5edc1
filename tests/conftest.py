"""Fixtures: a fresh database per test on SQLite and on a real PostgreSQL, the app, a live server.

Each backend gets a template database once per session (migrated with Alembic and seeded); every
test then works on its own copy: a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for
PostgreSQL. HTTP tests talk to a real HTTP server (werkzeug, threaded) on 127.0.0.1.
"""

from __future__ import annotations

import itertools
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from werkzeug.serving import make_server

from server import create_app
from server.config import PROJECT_ROOT
from server.db import make_engine
from server.migrate import upgrade
from tests.support.postgres import execute_as_admin, on_database, running_postgres
from tests.support.seed import Seeded, seed

XLSFORMS = PROJECT_ROOT / "xlsforms"
BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with running_postgres() as url:
        yield url


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
            execute_as_admin(server, "CREATE DATABASE fangpin_template")
            url = on_database(server, "fangpin_template")
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
    name = f"fangpin_test_{next(_counter)}"
    execute_as_admin(server, f"CREATE DATABASE {name} TEMPLATE fangpin_template")
    yield TestDatabase(on_database(server, name), template.seeded)
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
def seeded(database) -> Seeded:
    return database.seeded


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app behind a real HTTP server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
