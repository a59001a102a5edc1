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

from datetime import timedelta

from flask import current_app, url_for
from flask.views import MethodView
from sqlalchemy import or_, select
from sqlalchemy.orm import defer

from media.store import MediaNotFound
from server import db
from server.accounts.models import User
from server.audit.services import record
from server.clock import day_start
from server.declarations.services import declaration_submissions_in
from server.dedup.models import Conflict
from server.domain.fields import BY_NAME, Kind
from server.domain.roles import REVIEWING_ROLES
from server.errors import AppError
from server.forms.models import FormVersion
from server.rest import (
    blueprint,
    current_user,
    errors,
    file_download,
    in_area,
    one_page,
    require_role,
    shown_id_number,
    shown_phone,
    sorted_by,
    where_equal,
)
from server.submissions import review
from server.submissions.models import (
    MediaObject,
    Submission,
    SubmissionAttachment,
    SubmissionState,
)
from server.submissions.schemas import (
    CorrectionSchema,
    RejectionSchema,
    SubmissionDetailSchema,
    SubmissionQueryArgsSchema,
    SubmissionSchema,
)

bp = blueprint("submissions", __name__, "/submissions", "手机提交的表单数据、审核和附件")

SORT = {"received_at": Submission.received_at, "id": Submission.id,
        "state": Submission.state, "form_id": FormVersion.form_id,
        "applied_at": Submission.applied_at}


def _query(declared_here: bool = False):
    """Submissions sent inside the user's area; with ``declared_here`` (one submission's
    detail and attachments) also the self-declarations that belong to it — the household's
    area or the declared address, wherever the submitter is (server/declarations)."""
    here = in_area(User.area_code)
    if declared_here:
        here = or_(here, Submission.id.in_(
            declaration_submissions_in(current_user().area_code)))
    return (select(Submission, FormVersion.form_id, FormVersion.version, User.username,
                   User.area_code)
            .join(FormVersion, FormVersion.id == Submission.form_version_id)
            .join(User, User.id == Submission.submitter_id)
            .where(here)
            .options(defer(Submission.xml)))


def _render(row) -> dict:
    submission, form_id, version, username, area_code = row
    problems = submission.problems or []
    return {
        "id": submission.id, "instance_id": submission.instance_id, "form_id": form_id,
        "form_version": version, "submitter_id": submission.submitter_id,
        "submitter_username": username, "area_code": area_code,
        "device_id": submission.device_id, "received_at": submission.received_at,
        "complete": submission.complete, "state": submission.state,
        "household_id": submission.household_id, "applied_at": submission.applied_at,
        "review_note": submission.review_note,
        "error_count": sum(1 for p in problems if p.get("severity") == "error"),
        "warning_count": sum(1 for p in problems if p.get("severity") == "warning"),
    }


def _shown_correction(key: str, value: str, area_code: str) -> str:
    """A correction's value as the current user may see it (ID numbers and phones masked, SPEC
    §7). The household's area is the submission's, i.e. its submitter's (``area_code``)."""
    field = BY_NAME.get(key.rsplit("/", 1)[-1])
    if field is None or not value:
        return value
    if field.kind == Kind.ID_NUMBER:
        return shown_id_number(value)
    return shown_phone(value, area_code) if field.kind == Kind.PHONE else value


def _detail(submission_id: int) -> dict:
    session = db.session()
    row = session.execute(_query(declared_here=True)
                          .where(Submission.id == submission_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    result = _render(row)
    submission = row[0]
    result["problems"] = submission.problems or []
    result["corrections"] = {key: _shown_correction(key, str(value), result["area_code"])
                             for key, value in (submission.corrections or {}).items()}
    files = session.execute(
        select(SubmissionAttachment, MediaObject.size, MediaObject.content_type)
        .outerjoin(MediaObject, MediaObject.sha256 == SubmissionAttachment.media_sha256)
        .where(SubmissionAttachment.submission_id == submission_id)
        .order_by(SubmissionAttachment.name)).all()
    result["attachments"] = [{
        "name": attachment.name, "field_path": attachment.field_path or None,
        "referenced": bool(attachment.field_path),
        "received": attachment.media_sha256 is not None, "size": size,
        "content_type": content_type,
        "url": url_for("submissions.AttachmentDownload", submission_id=submission_id,
                       name=attachment.name) if attachment.media_sha256 else None,
    } for attachment, size, content_type in files]
    result["conflicts"] = [{
        "id": conflict.id, "kind": conflict.kind,
        "id_number": shown_id_number(conflict.id_number), "status": conflict.status,
        "resolution": conflict.resolution,
    } for conflict in session.scalars(select(Conflict).where(
        Conflict.submission_id == submission_id).order_by(Conflict.id))]
    return result


@bp.route("")
class Submissions(MethodView):
    @bp.arguments(SubmissionQueryArgsSchema, location="query")
    @bp.response(200, SubmissionSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """提交列表（本辖区用户提交的；可按表单、状态、提交人、接收日期筛选）"""
        query = sorted_by(_query(), args["sort"], SORT, Submission.id.desc())
        query = where_equal(query, args, FormVersion, "form_id")
        query = where_equal(query, args, Submission, "state", "submitter_id", "household_id")
        if "reviewable" in args:
            states = [state.value for state in review.REVIEWABLE]
            query = query.where(Submission.state.in_(states) if args["reviewable"]
                                else Submission.state.not_in(states))
        if "received_from" in args:
            query = query.where(Submission.received_at >= day_start(args["received_from"]))
        if "received_to" in args:
            query = query.where(Submission.received_at
                                < day_start(args["received_to"] + timedelta(days=1)))
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [_render(row) for row in rows]


@bp.route("/<int(min=1, max=2147483647):submission_id>")
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


@bp.route("/<int(min=1, max=2147483647):submission_id>/correct")
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


@bp.route("/<int(min=1, max=2147483647):submission_id>/reject")
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


@bp.route("/<int(min=1, max=2147483647):submission_id>/attachments/<name>")
class AttachmentDownload(MethodView):
    @bp.doc(responses={"200": {"description": "附件文件（照片、签名等），按其类型返回",
                               "content": {"application/octet-stream": {
                                   "schema": {"type": "string", "format": "binary"}}}}})
    @errors(bp, 404)
    @db.writes
    def get(self, submission_id, name):
        """下载附件（流式读取媒体存储；记入审计日志）"""
        row = db.session().execute(
            select(SubmissionAttachment.media_sha256, MediaObject.content_type)
            .join(Submission, Submission.id == SubmissionAttachment.submission_id)
            .join(User, User.id == Submission.submitter_id)
            .join(MediaObject, MediaObject.sha256 == SubmissionAttachment.media_sha256)
            .where(SubmissionAttachment.submission_id == submission_id,
                   SubmissionAttachment.name == name,
                   or_(in_area(User.area_code), Submission.id.in_(
                       declaration_submissions_in(current_user().area_code))))).first()
        if row is None:
            raise AppError("NOT_FOUND")
        store = current_app.extensions["fangpin.media"]
        try:
            size = store.size(row.media_sha256)
            stream = store.open(row.media_sha256)
        except MediaNotFound:
            raise AppError("NOT_FOUND") from None
        record(db.session(), "submission.attachment_downloaded", "submission", submission_id,
               current_user().id, name=name, media_sha256=row.media_sha256)
        return file_download(stream, size, row.content_type, name)
