"""Database: the declarative base, the engine, and the unit of work.

Services take a ``Session``, change things and ``flush()``; they never commit. A
``UnitOfWork`` commits once on success and rolls back on any error, then runs the work
registered for after the commit (``after_commit``: the take-in of a stored submission) or for
after a rollback (``on_rollback``: keeping what a refused upload carried). The request
(``init_app``: a success commits, an error response or an exception rolls back), the worker and
every CLI command use it alike (``Database.unit_of_work``). A unit of work that is a single
statement on PostgreSQL may run that statement on the ``autocommit_engine`` (see there): the
statement is then the unit's whole work, and its commit has nothing left to do.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import psycopg
from flask import Flask, current_app, g, request
from sqlalchemy import (
    ColumnElement,
    DateTime,
    MetaData,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    exc,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from server import clock

log = logging.getLogger(__name__)

_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=False)

# A pooled connection idle longer than this is pinged before it is handed out (see make_engine).
PING_AFTER_IDLE_SECONDS = 1.0

# What a client is told to wait before it tries again while the database is unreachable.
RETRY_AFTER_SECONDS = 10

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_insert_ignoring: dict[tuple[str, str], object] = {}


def insert_ignoring_conflicts(session: Session, model: type[Base]):
    """INSERT … ON CONFLICT DO NOTHING RETURNING the primary key, for SQLite and PostgreSQL.

    A race between two requests on a unique key ends in one row, never in an error; a row comes
    back only to the statement that inserted. Execute it with the values as parameters; it is
    built once per dialect and table (hot paths should not rebuild statements).
    """
    dialect = session.get_bind().dialect.name
    key = (dialect, model.__tablename__)
    if key not in _insert_ignoring:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        table = model.__table__
        _insert_ignoring[key] = (
            insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
        )
    return _insert_ignoring[key]


def insert_ignoring_duplicates(session: Session, model: type[Base], **values) -> bool:
    """INSERT a row unless one with the same unique key exists; True when it was inserted."""
    statement = insert_ignoring_conflicts(session, model)
    return session.connection().execute(statement, values).first() is not None


def among(session: Session, column, values: Iterable) -> ColumnElement[bool]:
    """``column IN values`` for a batch's hundreds of values. On PostgreSQL ``column =
    ANY(:values)``: one array parameter, so the statement's text is the same whatever the
    count, and is compiled, converted and prepared once. An expanding IN renders a placeholder
    per value, which SQLAlchemy and psycopg then render and parse per statement: a SELECT by 600
    ID numbers took 5.2 ms of app CPU against 1.3 (issue 16). SQLite has no arrays: an IN."""
    values = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    # an array of varchar(n) is a cast that cuts longer values short: one of 19 characters
    # would find the ID number of its first 18
    return column == any_(bindparam(None, values, type_=ARRAY(array_element(column.type))))


def among_rows(session: Session, columns: Sequence, rows: Iterable[tuple]
               ) -> ColumnElement[bool]:
    """``(a, b, …) IN rows`` for a batch's hundreds of rows (``among`` for several columns). On
    PostgreSQL an IN of a subquery that unnests one array parameter per column: the text is the
    same whatever the count, and the planner probes the columns' index once per row, where a
    list of 600 pairs was 1 200 parameters rendered, converted and planned as 600 ORs each
    time. SQLite: a tuple IN."""
    rows = list(rows)
    if session.get_bind().dialect.name != "postgresql":
        return tuple_(*columns).in_(rows)
    given = select(*(
        func.unnest(bindparam(None, [row[i] for row in rows],
                              type_=ARRAY(array_element(column.type))))
        for i, column in enumerate(columns)))
    return tuple_(*columns).in_(given)


def array_element(column_type):
    """What an array of a column's values holds: ``varchar`` for a ``varchar(n)`` (an array
    of those is a cast that cuts longer values short, see ``among``)."""
    if isinstance(column_type, String) and column_type.length:
        return String()
    return column_type


def utcnow() -> datetime:
    return clock.now()


_autocommit_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Let SQLAlchemy, not pysqlite, begin transactions (so SAVEPOINTs work).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # A request that writes takes SQLite's write lock at BEGIN, so concurrent writers
            # wait for each other (busy timeout) instead of failing when a read turns into a
            # write; reads begin deferred and never block anyone (WAL).
            connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")

        return engine
    # A connection that has waited in the pool is pinged before use (a database restart
    # closed it); one in steady use is not (a round trip per request on the hot path).
    engine = create_engine(url, pool_recycle=3600, pool_size=10, max_overflow=10,
                           pool_timeout=10)
    autocommit = create_engine(url, pool_recycle=3600, pool_size=10, max_overflow=10,
                               pool_timeout=10, isolation_level="AUTOCOMMIT",
                               pool_reset_on_return=None)
    _autocommit_engines[engine] = autocommit
    for pooled in (engine, autocommit):
        _ping_when_idle(pooled)

    @event.listens_for(engine, "engine_disposed")
    def _dispose_twin(_engine):
        autocommit.dispose()

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled PostgreSQL connection before handing it out when it has been idle for
    ``PING_AFTER_IDLE_SECONDS``: after a database restart (or a network cut) the pool holds
    closed connections, and without this the first request on each would fail. A failed ping
    makes the pool discard the connection and open a new one (SQLAlchemy's ``checkout``
    protocol: ``DisconnectionError``). Connections in steady use, handed out again within the
    second, are not pinged: the submission path stays one round trip."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            if dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                dbapi_connection.rollback()
        except psycopg.Error as error:
            raise exc.DisconnectionError(f"closed while idle in the pool: {error}") from error


# The errors that say the database cannot be reached, or cannot answer now (a restart, a lost
# connection, an exhausted pool, SQLite's lock held too long): a client may try again.
UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError,
                exc.TimeoutError, psycopg.OperationalError, psycopg.InterfaceError,
                sqlite3.OperationalError)


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database is unreachable or busy for now, not that the
    request was wrong: the answer is 503 with ``Retry-After``, and the worker waits."""
    return isinstance(error, UNAVAILABLE)


def autocommit_engine(engine: Engine) -> Engine | None:
    """The autocommitting twin of a PostgreSQL ``engine`` (None on SQLite), for a unit of work
    that is ONE statement: PostgreSQL runs a statement atomically, so BEGIN and COMMIT would
    only add two round trips. Its pool is its own (connections never switch modes) and is
    disposed with ``engine``'s. Used by the submission hot path (``server.submissions``)."""
    return _autocommit_engines.get(engine)


class UnitOfWork:
    """One session that commits once on success or rolls back on error, then runs the work
    registered for after the commit or after the rollback (each callback at most once, in
    the order registered). A callback that needs the database opens a unit of its own
    (``database.unit_of_work()``): this one has ended by then."""

    def __init__(self, database: Database, *, statementwise: bool = False):
        self.database = database
        twin = autocommit_engine(database.engine) if statementwise else None
        self.session = database.sessions(bind=twin) if twin is not None else database.sessions()
        self.session.info["unit_of_work"] = self
        self._after_commit: list[Callable[[], object]] = []
        self._on_rollback: list[Callable[[], object]] = []

    def after_commit(self, work: Callable[[], object]) -> None:
        self._after_commit.append(work)

    def on_rollback(self, work: Callable[[], object]) -> None:
        self._on_rollback.append(work)

    def commit(self) -> None:
        # A session that never began (the credentials cache answered, nothing was read or
        # written through it) has nothing to commit.
        if self.session.in_transaction():
            self.session.commit()
        self._on_rollback.clear()
        self._run(self._after_commit)

    def rollback(self) -> None:
        try:
            self.session.rollback()
        except Exception as error:
            if not unavailable(error):
                raise
            # the connection is gone, and its transaction with it: nothing is left to undo
            self.session.invalidate()
        self._after_commit.clear()
        for work in self._on_rollback:
            try:
                work()
            except Exception:  # what a refused request keeps, when even that fails: logged
                log.exception("keeping what a rolled-back unit of work received failed")
        self._on_rollback.clear()

    def discard(self) -> None:
        """Roll back without the work registered for a rollback: the request is handed, whole,
        to another handler that does it all again (``sync.shortcut``)."""
        self._on_rollback.clear()
        self.rollback()

    def close(self) -> None:
        self.session.close()

    @staticmethod
    def _run(work: list[Callable[[], object]]) -> None:
        while work:
            work.pop(0)()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        finally:
            self.close()


def after_commit(session: Session, work: Callable[[], object]) -> None:
    """Run ``work`` once the unit of work of ``session`` has committed (a session outside any
    unit of work — a test's own — has no commit of its own to wait for: nothing is run)."""
    unit = session.info.get("unit_of_work")
    if unit is not None:
        unit.after_commit(work)


def on_rollback(session: Session, work: Callable[[], object]) -> None:
    """Run ``work`` if the unit of work of ``session`` rolls back."""
    unit = session.info.get("unit_of_work")
    if unit is not None:
        unit.on_rollback(work)


def unit_of(session: Session) -> UnitOfWork | None:
    return session.info.get("unit_of_work")


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def unit_of_work(self, *, statementwise: bool = False) -> UnitOfWork:
        """A new unit of work: ``with database.unit_of_work() as unit: …unit.session…``.
        ``statementwise``: for work that only reads (``reads_only``), on PostgreSQL each
        statement is its own transaction on the ``autocommit_engine``."""
        return UnitOfWork(self, statementwise=statementwise)


def init_app(app: Flask) -> None:
    app.extensions["fangpin.db"] = Database(app.config["DATABASE_URL"])

    @app.after_request
    def _finish_unit_of_work(response):
        unit: UnitOfWork | None = g.pop("unit_of_work", None)
        if unit is None:
            return response
        try:
            if response.status_code < 400:
                unit.commit()
            else:
                unit.rollback()
        except Exception as error:
            if not unavailable(error):
                raise
            # the commit did not happen: the client hears so and sends again
            log.warning("database unavailable at commit: %s", error)
            unit.rollback()
            from server.errors import database_unavailable

            return database_unavailable(error)
        finally:
            unit.close()
        return response

    @app.teardown_request
    def _discard_unit_of_work(_exc):
        unit: UnitOfWork | None = g.pop("unit_of_work", None)
        if unit is not None:  # the request died before after_request ran
            try:
                unit.rollback()
            finally:
                unit.close()
        token = g.pop("write_intent", None)
        if token is not None:  # the thread may serve other work (tests call the app inline)
            _write_intent.reset(token)


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside write (a worker's batch): on SQLite, lock at BEGIN."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def database() -> Database:
    return current_app.extensions["fangpin.db"]


def session() -> Session:
    """The current request's session (one unit of work per request)."""
    return _request_unit().session


def commit() -> None:
    """End the request's unit of work now, and run what follows its commit, for a view whose
    answer tells what followed (the phone's receipt says what the take-in made of its
    submission). What the view does next is a unit of work of its own."""
    unit: UnitOfWork | None = g.pop("unit_of_work", None)
    if unit is not None:
        try:
            unit.commit()
        finally:
            unit.close()


def _request_unit() -> UnitOfWork:
    if "unit_of_work" not in g:
        reading = request.method in ("GET", "HEAD", "OPTIONS")
        writes = not reading or _view_marked("writes_on_read")
        if "write_intent" not in g:
            g.write_intent = _write_intent.set(writes)
        g.unit_of_work = database().unit_of_work(
            statementwise=reading and _view_marked("reads_only"))
    return g.unit_of_work


def writes(view):
    """Mark a GET view that writes (an export, which goes into the audit log), so that on
    SQLite its transaction takes the write lock at BEGIN like any POST."""
    view.writes_on_read = True
    return view


def reads_only(view):
    """Mark a GET view that only reads, in statements that need no transaction around them (no
    server-side cursor, no lock, no write: what it writes it writes in a unit of its own), so
    that on PostgreSQL each of its statements runs on the ``autocommit_engine``. Under READ
    COMMITTED, the level used here, each statement of a transaction sees what it would see
    alone: the answer is the same, and the BEGIN and COMMIT round trips go. For the checks
    every phone repeats every few minutes (formList, the manifests)."""
    view.reads_only = True
    return view


def _view_marked(mark: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    handler = getattr(getattr(view, "view_class", None), request.method.lower(), view)
    return getattr(handler, mark, False)
