"""Read services of the audit log, for county and admin users (others: FORBIDDEN_ROLE): what
the REST API lists, and what the console and the exports call.

Scope: the entries of users inside the reader's area; of the entries the system wrote itself
(no user: taking submissions into the registry), those about a submission sent from the area or
a household inside it, and those about nothing area-bound (a registry re-check).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, String, and_, cast, or_, select
from sqlalchemy.orm import Session, aliased

from server.accounts.models import User
from server.audit.models import AuditEntry
from server.auth import Principal, check_role, within
from server.domain.roles import Role
from server.households.models import Household
from server.listing import SortKey, sorted_by, where_equal
from server.submissions.models import Submission

READERS = (Role.COUNTY, Role.ADMIN)
AUDIT_SORT = {"at": AuditEntry.at, "id": AuditEntry.id, "action": AuditEntry.action,
              "object_type": AuditEntry.object_type, "user_id": AuditEntry.user_id}
DEFAULT_SORT = (SortKey("at", descending=True),)
AREA_BOUND = ("submission", "household")


@dataclass(frozen=True)
class AuditEntryView:
    id: int
    at: datetime
    user_id: int | None
    username: str | None
    action: str
    object_type: str
    object_id: str
    details: dict


def _in_scope(user: Principal):
    submitter = aliased(User)
    submission_here = (select(Submission.id)
                       .join(submitter, submitter.id == Submission.submitter_id)
                       .where(cast(Submission.id, String) == AuditEntry.object_id,
                              within(user, submitter.area_code)).exists())
    household_here = (select(Household.id)
                      .where(Household.id == AuditEntry.object_id,
                             within(user, Household.area_code)).exists())
    return or_(
        and_(AuditEntry.user_id.is_not(None), within(user, User.area_code)),
        and_(AuditEntry.user_id.is_(None), or_(
            AuditEntry.object_type.not_in(AREA_BOUND),
            and_(AuditEntry.object_type == "submission", submission_here),
            and_(AuditEntry.object_type == "household", household_here))))


def audit_query(user: Principal, filters: Mapping) -> Select:
    """Rows (AuditEntry, username) in the user's scope, for ``audit_entry_view``; ``filters``:
    ``action``, ``object_type``, ``object_id``, ``user_id``, ``since`` (inclusive), ``until``
    (exclusive), ``sort`` (keys of ``AUDIT_SORT``; newest first by default)."""
    check_role(user, READERS)
    query = (select(AuditEntry, User.username)
             .outerjoin(User, User.id == AuditEntry.user_id)
             .where(_in_scope(user)))
    query = sorted_by(query, filters.get("sort", DEFAULT_SORT), AUDIT_SORT,
                      AuditEntry.id.desc())
    query = where_equal(query, filters, AuditEntry, "action", "object_type", "object_id",
                        "user_id")
    if "since" in filters:
        query = query.where(AuditEntry.at >= filters["since"])
    if "until" in filters:
        query = query.where(AuditEntry.at < filters["until"])
    return query


def audit_entry_view(row) -> AuditEntryView:
    entry, username = row
    return AuditEntryView(id=entry.id, at=entry.at, user_id=entry.user_id, username=username,
                          action=entry.action, object_type=entry.object_type,
                          object_id=entry.object_id, details=entry.details or {})


def entries_about(session: Session, action: str, object_type: str,
                  object_id: str | int) -> list[AuditEntryView]:
    """The ``action`` entries about one object, oldest first — for the page of that object, to
    a reader the object's own read service has let in (a reviewer who resolved a conflict sees
    the entry it left), whatever their role. (By action: the log is indexed by it.)"""
    rows = session.execute(
        select(AuditEntry, User.username).outerjoin(User, User.id == AuditEntry.user_id)
        .where(AuditEntry.action == action, AuditEntry.object_type == object_type,
               AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.at, AuditEntry.id))
    return [audit_entry_view(row) for row in rows]
