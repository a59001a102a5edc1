"""Storing a new submission: the submission's one write, behind one function.

On PostgreSQL a new submission, its media rows, its attachment links and its audit entry are
ONE statement (data-modifying CTEs, built and compiled once) on the autocommit twin of the
engine (``server.db.autocommit_engine``): PostgreSQL runs a statement atomically, so it is the
unit of work's whole write, and BEGIN and COMMIT would only add two round trips on the hottest
path of the server. The statement runs on the pooled psycopg connection itself (SQLAlchemy's
execution layer cost about a tenth of the request's CPU there); a connection that failed is
invalidated, never returned to the pool. SQLite has no data-modifying CTEs: the same rows are
separate statements of the unit of work's transaction. Either way the submission is stored when
the unit of work commits, and nothing after the commit can lose it.
"""

from __future__ import annotations

import functools
import json

import psycopg
from psycopg.types.json import Json
from sqlalchemy import (
    BigInteger,
    String,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    select,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry
from server.audit.services import record
from server.db import autocommit_engine, insert_ignoring_conflicts
from server.submissions.media import register_media
from server.submissions.models import (
    MediaObject,
    Submission,
    SubmissionAttachment,
    SubmissionState,
)

_INSERT_ATTACHMENT = insert(SubmissionAttachment.__table__)
# What every new submission starts as: received, with no problems and no corrections. Written
# into the PostgreSQL statement as constants (fewer parameters to adapt on the hot path, and
# two JSON dumps fewer a request), and given to SQLite's insert from here too.
NEW_SUBMISSION = {"state": SubmissionState.RECEIVED.value, "problems": [], "corrections": {}}


def insert_new_submission(session: Session, submission: dict, attachments: list[dict],
                          audit_details: dict, media: list[dict]) -> int | None:
    """Register the media rows, then INSERT a new submission, its attachment rows and its audit
    entry; its id, or None when the instanceID is already stored (then only media rows are
    inserted). The submission starts as ``NEW_SUBMISSION`` says; its audit entry is
    ``submission.received`` by its submitter, with ``audit_details``. One statement on
    PostgreSQL, the unit of work's statements on SQLite (see the module's docstring)."""
    autocommit = autocommit_engine(session.get_bind())
    if autocommit is not None:
        sql, constants = _new_submission_sql(autocommit.dialect, bool(attachments), bool(media))
        params = {**constants, **submission, "audit_details": Json(audit_details)}
        if attachments:
            params.update(names=[a["name"] for a in attachments],
                          paths=[a["field_path"] for a in attachments],
                          shas=[a["media_sha256"] for a in attachments])
        if media:
            params.update(media_shas=[m["sha256"] for m in media],
                          media_sizes=[m["size"] for m in media],
                          media_types=[m["content_type"] for m in media])
        connection = autocommit.raw_connection()  # a pooled psycopg connection, autocommitting
        try:
            row = connection.driver_connection.execute(sql, params).fetchone()
        except psycopg.Error as exc:
            if connection.driver_connection.closed or isinstance(exc, psycopg.OperationalError):
                # A connection that failed (a database restart) never goes back to the pool;
                # the next request opens a new one, as the engine's own pool does.
                connection.invalidate(exc)
            raise
        finally:
            connection.close()  # back to the pool (an invalidated one is discarded)
        return row[0] if row else None
    register_media(session, media)
    connection = session.connection()  # Core statements: no unit-of-work bookkeeping
    created_id = connection.execute(insert_ignoring_conflicts(session, Submission),
                                    {**submission, **NEW_SUBMISSION}).scalar()
    if created_id is not None:
        if attachments:
            connection.execute(_INSERT_ATTACHMENT, [{**a, "submission_id": created_id}
                                                    for a in attachments])
        record(session, "submission.received", "submission", created_id,
               submission["submitter_id"], **audit_details)
    return created_id


@functools.cache
def _new_submission_statement(attachments: bool, media: bool):
    """The one statement of a new submission. The attachment and media parts are left out when
    there are none (a form without files): even empty, they cost PostgreSQL a fifth of the
    statement (pgbench, 16 clients: 4 050 → 5 100 statements/s)."""
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    table = Submission.__table__
    constants = {name: _sql_constant(value, table.c[name].type)
                 for name, value in NEW_SUBMISSION.items()}
    new = (pg_insert(table).values({**{name: bindparam(name, type_=table.c[name].type)
                                       for name in _SUBMISSION_COLUMNS}, **constants})
           .on_conflict_do_nothing()
           .returning(table.c.id, table.c.received_at, table.c.submitter_id).cte("new_submission"))
    files = select(
        func.unnest(bindparam("names", type_=ARRAY(String))).label("name"),
        func.unnest(bindparam("paths", type_=ARRAY(String))).label("field_path"),
        func.unnest(bindparam("shas", type_=ARRAY(String))).label("media_sha256"),
    ).subquery("files")
    attachments_cte = insert(SubmissionAttachment.__table__).from_select(
        ["submission_id", "name", "field_path", "media_sha256", "received_at"],
        select(new.c.id, files.c.name, files.c.field_path, files.c.media_sha256,
               case((files.c.media_sha256.is_not(None), new.c.received_at)))
        .select_from(new.join(files, true())),
    ).cte("new_attachments")
    media_table = MediaObject.__table__
    media_cte = pg_insert(media_table).from_select(
        ["sha256", "size", "content_type", "created_at"],
        select(func.unnest(bindparam("media_shas", type_=ARRAY(String))),
               func.unnest(bindparam("media_sizes", type_=ARRAY(BigInteger))),
               func.unnest(bindparam("media_types", type_=ARRAY(String))),
               bindparam("received_at", type_=media_table.c.created_at.type)),
    ).on_conflict_do_nothing().cte("new_media")
    audit_table = AuditEntry.__table__
    audit = insert(audit_table).from_select(
        ["at", "action", "object_type", "object_id", "user_id", "details"],
        select(new.c.received_at,
               literal_column("'submission.received'"), literal_column("'submission'"),
               cast(new.c.id, String), new.c.submitter_id,
               bindparam("audit_details", type_=audit_table.c.details.type))
        .select_from(new),
    ).cte("new_audit_entry")
    parts = [*([media_cte] if media else []), *([attachments_cte] if attachments else []), audit]
    return select(new.c.id).add_cte(*parts)


def _sql_constant(value, type_):
    """A constant of ``NEW_SUBMISSION`` written as an SQL string literal (JSON for a list or a
    dict); our own values, without quotes to escape."""
    text = json.dumps(value) if isinstance(value, list | dict) else str(value)
    if "'" in text or "\\" in text:
        raise ValueError(f"not a plain constant: {text!r}")
    return literal_column(f"'{text}'", type_=type_)


_compiled: dict[tuple, tuple[str, dict]] = {}


def _new_submission_sql(dialect: Dialect, attachments: bool, media: bool) -> tuple[str, dict]:
    """The statement as psycopg's SQL (and the constants it binds), compiled once per server
    version."""
    key = (dialect.name, dialect.driver, dialect.server_version_info, attachments, media)
    if key not in _compiled:
        compiled = _new_submission_statement(attachments, media).compile(dialect=dialect)
        _compiled[key] = (str(compiled), dict(compiled.params))
    return _compiled[key]


_SUBMISSION_COLUMNS = ("instance_id", "form_version_id", "submitter_id", "device_id", "xml",
                       "xml_sha256", "received_at", "complete")
