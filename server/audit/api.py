"""REST: the audit log, for county and admin users (others get 403), newest first.

Scope: the entries of users inside the caller's area; of the entries the system wrote itself
(no user: taking submissions into the registry), those about a submission sent from the area or
a household inside it, and those about nothing area-bound (a registry re-check).
"""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import aliased

from server import db
from server.accounts.models import User
from server.audit.models import AuditEntry
from server.audit.schemas import AuditEntrySchema, AuditQueryArgsSchema
from server.domain.roles import Role
from server.households.models import Household
from server.rest import blueprint, errors, in_area, one_page, require_role, sorted_by, where_equal
from server.submissions.models import Submission

bp = blueprint("audit", __name__, "/audit", "操作日志（县级、管理员）")
SORT = {"at": AuditEntry.at, "id": AuditEntry.id, "action": AuditEntry.action,
        "object_type": AuditEntry.object_type, "user_id": AuditEntry.user_id}
AREA_BOUND = ("submission", "household")


def _in_scope():
    submitter = aliased(User)
    submission_here = (select(Submission.id)
                       .join(submitter, submitter.id == Submission.submitter_id)
                       .where(cast(Submission.id, String) == AuditEntry.object_id,
                              in_area(submitter.area_code)).exists())
    household_here = (select(Household.id)
                      .where(Household.id == AuditEntry.object_id,
                             in_area(Household.area_code)).exists())
    return or_(
        and_(AuditEntry.user_id.is_not(None), in_area(User.area_code)),
        and_(AuditEntry.user_id.is_(None), or_(
            AuditEntry.object_type.not_in(AREA_BOUND),
            and_(AuditEntry.object_type == "submission", submission_here),
            and_(AuditEntry.object_type == "household", household_here))))


@bp.route("")
class AuditLog(MethodView):
    @bp.arguments(AuditQueryArgsSchema, location="query")
    @bp.response(200, AuditEntrySchema(many=True))
    @bp.paginate()
    @errors(bp, 403)
    def get(self, args, pagination_parameters):
        """操作日志（可按操作、对象、用户、时间筛选；默认最新在前）"""
        require_role(Role.COUNTY, Role.ADMIN)
        query = (select(AuditEntry, User.username)
                 .outerjoin(User, User.id == AuditEntry.user_id)
                 .where(_in_scope()))
        query = sorted_by(query, args["sort"], SORT, AuditEntry.id.desc())
        query = where_equal(query, args, AuditEntry, "action", "object_type", "object_id",
                            "user_id")
        if "since" in args:
            query = query.where(AuditEntry.at >= args["since"])
        if "until" in args:
            query = query.where(AuditEntry.at < args["until"])
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [{"id": entry.id, "at": entry.at, "user_id": entry.user_id,
                 "username": username, "action": entry.action,
                 "object_type": entry.object_type, "object_id": entry.object_id,
                 "details": entry.details or {}} for entry, username in rows]
