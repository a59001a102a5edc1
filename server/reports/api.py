"""REST: the county's counts — the console dashboard's numbers for programs (county and admin
users; a township user its own township)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from server import db
from server.clock import today
from server.reports.queries import COUNTING_ROLES, cached_counts, counts_view
from server.reports.schemas import CountsQueryArgsSchema, CountsSchema
from server.rest import blueprint, errors, require_role

bp = blueprint("reports", __name__, "/reports", "统计（县级、管理员；乡镇本级）")


@bp.route("/counts")
class ReportCounts(MethodView):
    @bp.arguments(CountsQueryArgsSchema, location="query")
    @bp.response(200, CountsSchema)
    @errors(bp, 400, 403, 404)
    def get(self, args):
        """监测对象（按类型、风险、区划）、在办案件（按环节、在环节时长、逾期）、每月识别和消除、
        风险消除进度、帮扶成效评估——SQL 分组统计，每表一次查询"""
        user = require_role(*COUNTING_ROLES)
        found = cached_counts(db.session(), user, today(), args,
                              current_app.config["COUNTS_CACHE_SECONDS"])
        return counts_view(db.session(), found)
