from __future__ import annotations

from sqlalchemy.orm import Session

from server.audit.models import AuditEntry


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: object,
    user_id: int | None = None,
    **details: object,
) -> AuditEntry:
    """Append one entry to the audit log (in the caller's transaction)."""
    entry = AuditEntry(
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        user_id=user_id,
        details={k: v for k, v in details.items() if v is not None},
    )
    session.add(entry)
    return entry
