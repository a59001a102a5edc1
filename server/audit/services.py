from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry
from server.db import utcnow
from server.rows import insert_rows

_INSERT = insert(AuditEntry.__table__)


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: object,
    user_id: int | None = None,
    **details: object,
) -> None:
    """Append one entry to the audit log, in the caller's transaction.

    A plain INSERT (not a unit-of-work flush): it runs on every submission.
    """
    session.connection().execute(_INSERT, _entry(action, object_type, object_id, user_id,
                                                 details))


def record_many(session: Session,
                entries: list[tuple[str, str, object, int | None, dict[str, object]]]) -> None:
    """``record`` for a batch: entries of (action, object type, object id, user id, details), in
    one set-based insert (``server.rows``: a COPY on PostgreSQL)."""
    if entries:
        insert_rows(session.connection(), AuditEntry.__table__,
                    [_entry(*entry) for entry in entries])


def _entry(action: str, object_type: str, object_id: object, user_id: int | None,
           details: dict[str, object]) -> dict[str, object]:
    """An audit row's values (details without the ones that are None)."""
    return {"at": utcnow(), "action": action, "object_type": object_type,
            "object_id": str(object_id), "user_id": user_id,
            "details": {k: v for k, v in details.items() if v is not None}}
