"""REST: submissions as received from the phones, the review queue's actions, attachments.

A submission belongs to the area of the user who sent it (as the review queue of
``server.submissions.review`` decides); users see the submissions sent inside their area. A
self-declaration's submission can also be read (detail, attachments: the signed 附件1) by the
area the declaration belongs to, which must follow it up; it is not in that area's list, which
stays the submissions sent there (the declarations are listed at ``/declarations``).
Reviewers (village, township, county, admin) correct an invalid submission — which is then
taken in again, as a newly stored one would be (the app's take-in, ``TAKE_IN``) — or reject
it with a reason.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView

from media.store import MediaNotFound
from server import db
from server.domain.roles import REVIEWING_ROLES
from server.errors import AppError
from server.rest import (
    blueprint,
    current_user,
    errors,
    file_download,
    one_page,
    require_role,
)
from server.submissions import queries, review
from server.submissions.models import Submission, SubmissionState
from server.submissions.schemas import (
    CorrectionSchema,
    RejectionSchema,
    SubmissionDetailSchema,
    SubmissionQueryArgsSchema,
    SubmissionSchema,
)

bp = blueprint("submissions", __name__, "/submissions", "手机提交的表单数据、审核和附件")


def _detail(submission_id: int) -> queries.SubmissionDetail:
    def file_url(name: str) -> str:
        return url_for("submissions.AttachmentDownload", submission_id=submission_id, name=name)

    return queries.readable_submission(db.session(), current_user(), submission_id, file_url)


@bp.route("")
class Submissions(MethodView):
    @bp.arguments(SubmissionQueryArgsSchema, location="query")
    @bp.response(200, SubmissionSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """提交列表（本辖区用户提交的；可按表单、状态、提交人、接收日期筛选）"""
        query = queries.submissions_query(current_user(), args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [queries.submission_view(row) for row in rows]


@bp.route("/<id:submission_id>")
class SubmissionById(MethodView):
    @bp.response(200, SubmissionDetailSchema)
    @errors(bp, 404)
    def get(self, submission_id):
        """提交详情：问题、更正、附件和冲突"""
        return _detail(submission_id)


def _take_in_again(submission: Submission) -> None:
    """A corrected submission is taken in again once the correction is committed; the answer
    (read after it) shows what the take-in made of it."""
    if submission.state == SubmissionState.RECEIVED:
        current_app.extensions["fangpin.take_in"].submission_stored(db.session(), submission.id)
    db.commit()


@bp.route("/<id:submission_id>/correct")
class SubmissionCorrection(MethodView):
    @bp.arguments(CorrectionSchema)
    @bp.response(200, SubmissionDetailSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, data, submission_id):
        """更正校验未通过的提交（原始数据不变），随后重新入库"""
        user = require_role(*REVIEWING_ROLES)
        submission = review.correct_submission(db.session(), submission_id, user.id,
                                               user.area_code, data["corrections"],
                                               data["note"])
        _take_in_again(submission)
        return _detail(submission_id)


@bp.route("/<id:submission_id>/reject")
class SubmissionRejection(MethodView):
    @bp.arguments(RejectionSchema)
    @bp.response(200, SubmissionDetailSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, data, submission_id):
        """驳回待审核的提交（须填写理由）"""
        user = require_role(*REVIEWING_ROLES)
        review.reject_submission(db.session(), submission_id, user.id, user.area_code,
                                 data["reason"])
        return _detail(submission_id)


@bp.route("/<id:submission_id>/attachments/<name>")
class AttachmentDownload(MethodView):
    @bp.doc(responses={"200": {"description": "附件文件（照片、签名等），按其类型返回",
                               "content": {"application/octet-stream": {
                                   "schema": {"type": "string", "format": "binary"}}}}})
    @errors(bp, 404)
    @db.writes
    def get(self, submission_id, name):
        """下载附件（流式读取媒体存储；记入审计日志）"""
        found = queries.download_attachment(db.session(), current_user(), submission_id, name)
        store = current_app.extensions["fangpin.media"]
        try:
            size = store.size(found.media_sha256)
            stream = store.open(found.media_sha256)
        except MediaNotFound:
            raise AppError("NOT_FOUND") from None
        return file_download(stream, size, found.content_type, name)
