"""REST: what deduplication holds for people to decide — conflicts and likely duplicates.

A conflict belongs to the smallest area covering its submitter's area and every household and
address involved (``Conflict.area_code``, SPEC §5): the reviewers of that area or above see and
resolve it, so a conflict that reaches into another village is decided by the township.
A likely-duplicate flag is visible to a user when either person's household lies in
their area, or when the submission that raised it was sent from there. Reviewers (village,
township, county, admin) resolve and judge; everyone in the area may list.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from server import db
from server.dedup import queries, services
from server.dedup.schemas import (
    ConflictQueryArgsSchema,
    ConflictSchema,
    DuplicateFlagQueryArgsSchema,
    DuplicateFlagSchema,
    ResolutionSchema,
    VerdictSchema,
)
from server.domain.dedup import Resolution
from server.domain.roles import REVIEWING_ROLES
from server.rest import blueprint, current_user, errors, one_page, require_role
from server.submissions.models import SubmissionState

conflicts_bp = blueprint("conflicts", __name__, "/conflicts",
                         "身份证号码冲突（提交暂停，待审核人处理）")
duplicates_bp = blueprint("duplicates", __name__, "/duplicate-flags",
                          "疑似重复人员（同名同生日、号码相差一位）")


# --- conflicts ----------------------------------------------------------------------------------


def _conflict(conflict_id: int) -> queries.ConflictView:
    return queries.readable_conflict(db.session(), current_user(), conflict_id)


@conflicts_bp.route("")
class Conflicts(MethodView):
    @conflicts_bp.arguments(ConflictQueryArgsSchema, location="query")
    @conflicts_bp.response(200, ConflictSchema(many=True))
    @conflicts_bp.paginate()
    @errors(conflicts_bp)
    def get(self, args, pagination_parameters):
        """冲突列表（本辖区，先到先列）"""
        query = queries.conflicts_query(current_user(), args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [queries.conflict_view(row) for row in rows]


@conflicts_bp.route("/<id:conflict_id>")
class ConflictById(MethodView):
    @conflicts_bp.response(200, ConflictSchema)
    @errors(conflicts_bp, 404)
    def get(self, conflict_id):
        """冲突详情"""
        return _conflict(conflict_id)


@conflicts_bp.route("/<id:conflict_id>/resolve")
class ConflictResolution(MethodView):
    @conflicts_bp.arguments(ResolutionSchema)
    @conflicts_bp.response(200, ConflictSchema)
    @errors(conflicts_bp, 403, 404, 409)
    def post(self, data, conflict_id):
        """处理冲突：同一户、真实迁移或录入错误；提交的冲突都处理完后重新入库"""
        user = require_role(*REVIEWING_ROLES)
        _conflict(conflict_id)  # inside the area, or 404
        submission = services.resolve_conflict(db.session(), conflict_id,
                                               Resolution(data["resolution"]), user.id,
                                               data["note"])
        if submission.state == SubmissionState.RECEIVED:  # every conflict closed: again
            current_app.extensions["fangpin.take_in"].submission_stored(db.session(),
                                                                        submission.id)
        db.commit()  # the answer shows what the take-in made of it
        return _conflict(conflict_id)


# --- likely duplicates --------------------------------------------------------------------------


def _flag(flag_id: int) -> queries.DuplicateFlagView:
    session, user = db.session(), current_user()
    return queries.flag_views(session, user, [queries.readable_flag(session, user, flag_id)])[0]


@duplicates_bp.route("")
class DuplicateFlags(MethodView):
    @duplicates_bp.arguments(DuplicateFlagQueryArgsSchema, location="query")
    @duplicates_bp.response(200, DuplicateFlagSchema(many=True))
    @duplicates_bp.paginate()
    @errors(duplicates_bp)
    def get(self, args, pagination_parameters):
        """疑似重复人员列表（本辖区）"""
        session, user = db.session(), current_user()
        query = queries.flags_query(user, args)
        return queries.flag_views(session, user,
                                  session.scalars(one_page(query, pagination_parameters)).all())


@duplicates_bp.route("/<id:flag_id>")
class DuplicateFlagById(MethodView):
    @duplicates_bp.response(200, DuplicateFlagSchema)
    @errors(duplicates_bp, 404)
    def get(self, flag_id):
        """疑似重复详情"""
        return _flag(flag_id)


@duplicates_bp.route("/<id:flag_id>/verdict")
class DuplicateVerdict(MethodView):
    @duplicates_bp.arguments(VerdictSchema)
    @duplicates_bp.response(200, DuplicateFlagSchema)
    @errors(duplicates_bp, 403, 404)
    def post(self, data, flag_id):
        """判定是否同一人（“不是同一人”会被记住，不再标记）"""
        user = require_role(*REVIEWING_ROLES)
        queries.readable_flag(db.session(), user, flag_id)  # visible to the user, or 404
        services.judge_duplicate(db.session(), flag_id, data["same_person"], user)
        return _flag(flag_id)
