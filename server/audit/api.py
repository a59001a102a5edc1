"""REST: the audit log, for county and admin users (others get 403), newest first.

Scope: the entries of users inside the caller's area, and the system's own entries about their
area or nothing area-bound (``server.audit.queries``).
"""

from __future__ import annotations

from flask.views import MethodView

from server import db
from server.audit.queries import audit_entry_view, audit_query
from server.audit.schemas import AuditEntrySchema, AuditQueryArgsSchema
from server.rest import blueprint, current_user, errors, one_page

bp = blueprint("audit", __name__, "/audit", "操作日志（县级、管理员）")


@bp.route("")
class AuditLog(MethodView):
    @bp.arguments(AuditQueryArgsSchema, location="query")
    @bp.response(200, AuditEntrySchema(many=True))
    @bp.paginate()
    @errors(bp, 403)
    def get(self, args, pagination_parameters):
        """操作日志（可按操作、对象、用户、时间筛选；默认最新在前）"""
        query = audit_query(current_user(), args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [audit_entry_view(row) for row in rows]
