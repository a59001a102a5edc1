"""Many rows of one table written at once: ``insert_rows`` and ``update_rows`` (issue 16).

The take-in writes a batch's households, people, survey versions, submission ends and audit
entries set-based. On PostgreSQL an ``executemany`` is still one statement a row for the
server (psycopg pipelines them: one round trip, but a bind and an execution each, and a
parameter conversion each in Python); here a batch is one ``COPY … FROM STDIN`` for an insert
and one ``UPDATE … FROM unnest(arrays)`` for an update, whatever its size. A few rows
(``SET_BASED_FROM``), and every write on SQLite, are SQLAlchemy Core ``executemany``.

What the rows hold is what an ``insert(table)`` / ``update(table)`` would be given: Python
values, bound through the columns' SQLAlchemy types (their bind processors run here too, so a
``UTCDateTime`` or a ``JSON`` column gets what it would get from SQLAlchemy); a column an insert
leaves out takes its Python-side default (``default=``) or the server's. ``sql_values`` are SQL
expressions given to every row (``updated_at=func.now()``): on the COPY path they are evaluated
once, with one SELECT in the same transaction, so only expressions whose value is the same for
every row of a transaction may be given (``now()`` is the transaction's start time).

A database error is raised as SQLAlchemy raises it from ``execute`` (``IntegrityError`` for a
unique key another worker took meanwhile, ``OperationalError`` for a lost connection), so the
callers' handling is the same on both paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import psycopg
from sqlalchemy import (
    JSON,
    Connection,
    Table,
    bindparam,
    cast,
    exc,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, REGCLASS
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import String, TypeEngine

from server.db import array_element


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, object]],
                **sql_values: ColumnElement) -> None:
    """INSERT ``rows`` (each with the same columns) into ``table``: one COPY on PostgreSQL."""
    if not rows:
        return
    if not _set_based(connection, rows):
        connection.execute(insert(table).values(**sql_values) if sql_values else insert(table),
                           list(rows))
        return
    given = list(rows[0])
    constants = _evaluated(connection, sql_values)
    defaults = {column.key: column.default for column in table.columns
                if column.key not in given and column.key not in constants
                and column.default is not None and not column.default.is_sequence}
    for key, default in defaults.items():
        if not (default.is_scalar or default.is_callable):
            raise ValueError(f"{table.name}.{key}: a SQL default has no COPY value")
    names = [*given, *constants, *defaults]
    processors = [table.c[name].type._cached_bind_processor(connection.dialect)
                  for name in names]
    statement = (f"COPY {_quoted(connection, table.name)} "
                 f"({', '.join(_quoted(connection, name) for name in names)}) FROM STDIN")
    fixed = list(constants.values())
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [row[name] for name in given]
                values += fixed
                values += [_default(default) for default in defaults.values()]
                copy.write_row([value if process is None else process(value)
                                for value, process in zip(values, processors, strict=True)])
    except psycopg.Error as error:
        raise exc.DBAPIError.instance(statement, None, error, psycopg.Error) from error


def update_rows(connection: Connection, table: Table, key: str,
                rows: Sequence[Mapping[str, object]], **sql_values: ColumnElement) -> None:
    """UPDATE the rows of ``table`` whose ``key`` column is each row's ``key`` value with the
    row's other values (each row with the same columns): one statement on PostgreSQL."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    if not _set_based(connection, rows):
        marker = f"_{key}"
        connection.execute(
            update(table).where(table.c[key] == bindparam(marker)).values(**sql_values),
            [{marker: row[key], **{name: row[name] for name in columns}} for row in rows])
        return
    arrays = {name: func.unnest(bindparam(f"_{name}", _array(table.c[name].type, rows, name),
                                          type_=ARRAY(_element(table.c[name].type))))
              for name in [key, *columns]}
    given = select(*(array.label(name) for name, array in arrays.items())).subquery("given")
    values = {name: _as_column(table, name, given.c[name]) for name in columns}
    connection.execute(update(table).where(table.c[key] == given.c[key])
                       .values(**values, **sql_values))


def allocate_ids(connection: Connection, counts: Mapping[Table, int]
                 ) -> dict[Table, list[int]] | None:
    """Ids for rows about to be inserted into each table (``counts``: how many), taken from the
    tables' own sequences in one statement, so that rows written before them can name them;
    None on SQLite, where a row gets its id when it is inserted."""
    if connection.dialect.name != "postgresql":
        return None
    tables = list(counts)
    # The sequence's name looked up once a table (an initplan), not once a row: per row, the
    # lookup cost more than the nextval.
    arrays = [func.array(
        select(func.nextval(cast(select(func.pg_get_serial_sequence(table.name, "id"))
                                 .scalar_subquery(), REGCLASS)))
        .select_from(func.generate_series(1, counts[table])).scalar_subquery())
        for table in tables]
    row = connection.execute(select(*arrays)).one()
    return {table: list(ids) for table, ids in zip(tables, row, strict=True)}


@contextmanager
def deferred(connection: Connection, constraints: Sequence[str]) -> Iterator[None]:
    """Within the block, the named ``DEFERRABLE`` constraints are not checked statement by
    statement; at its end they are checked (``SET CONSTRAINTS … IMMEDIATE``), so that a row
    that breaks one raises there, in the caller's savepoint, not at the commit. PostgreSQL
    only. A block that raises leaves them deferred until the caller's savepoint rolls back,
    which restores them."""
    names = ", ".join(_quoted(connection, name) for name in constraints)
    connection.exec_driver_sql(f"SET CONSTRAINTS {names} DEFERRED")
    yield
    connection.exec_driver_sql(f"SET CONSTRAINTS {names} IMMEDIATE")


# Below this many rows an executemany is cheaper: a COPY or an UPDATE from arrays is a new
# statement each time (no prepared plan, a round trip more for the COPY), and the inline
# take-in's batch of one paid about 1.2 ms more app CPU a submission with them.
SET_BASED_FROM = 8


def _set_based(connection: Connection, rows: Sequence) -> bool:
    return (len(rows) >= SET_BASED_FROM and connection.dialect.name == "postgresql"
            and connection.dialect.driver == "psycopg")


def _evaluated(connection: Connection, sql_values: Mapping[str, ColumnElement]) -> dict:
    if not sql_values:
        return {}
    row = connection.execute(select(*(value.label(name) for name, value in sql_values.items())))
    return dict(row.one()._mapping)


def _default(default) -> object:
    return default.arg(None) if default.is_callable else default.arg


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _element(column_type: TypeEngine) -> TypeEngine:
    """The type of an array of the column's values (``server.db.array_element``), JSON values
    as text (cast back in the statement)."""
    return String() if isinstance(column_type, JSON) else array_element(column_type)


def _array(column_type: TypeEngine, rows: Sequence[Mapping[str, object]], name: str) -> list:
    """The rows' values of a column, JSON ones as their text (None as JSON's null unless the
    column stores SQL NULL for it, as SQLAlchemy binds them)."""
    values = [row[name] for row in rows]
    if not isinstance(column_type, JSON):
        return values
    return [None if value is None and column_type.none_as_null
            else json.dumps(value) for value in values]


def _as_column(table: Table, name: str, value: ColumnElement) -> ColumnElement:
    """A value of the ``given`` arrays as the column takes it: JSON from its text."""
    column_type = table.c[name].type
    return cast(value, column_type) if isinstance(column_type, JSON) else value
