"""REST: department warning lists (部门筛查预警) and the home-check tasks they hand out.

Lists are the county's: a list belongs to the uploader's area, so only users whose area holds
it (county, admin) see lists, their rows and the original file. Tasks (matched rows) belong to
the household's area: village and township users see the tasks of their area and feed back the
results; everyone else sees them area-scoped too. ID numbers are masked but for county/admin.
"""

from __future__ import annotations

from flask import current_app, request, send_file
from flask.views import MethodView
from sqlalchemy import case, func, select
from werkzeug.exceptions import RequestEntityTooLarge

from server import db
from server.clock import today
from server.domain.catalogue import Message
from server.domain.codes import WARNING_CHECK_OUTCOME
from server.domain.idnumber import mask
from server.errors import AppError, render
from server.households.models import Person
from server.rest import (
    blueprint,
    current_user,
    errors,
    in_area,
    one_page,
    sees_personal_data,
    where_equal,
    where_in_area,
)
from server.screening import services
from server.screening.models import WarningList, WarningRow
from server.screening.schemas import (
    ImportReportSchema,
    WarningCheckSchema,
    WarningListDetailSchema,
    WarningListSchema,
    WarningRowQueryArgsSchema,
    WarningRowSchema,
    WarningTaskQueryArgsSchema,
    WarningUploadSchema,
)

bp = blueprint("screening", __name__, "", "部门筛查预警：名单导入、交办核查任务、结果反馈")

# Multipart framing around the file (boundaries, part headers) on top of the file's own limit.
_MULTIPART_OVERHEAD = 64 * 1024


def _too_large() -> AppError:
    return AppError("WARNING_LIST_TOO_LARGE", size=request.content_length or "?",
                    limit=services.MAX_LIST_BYTES)


@bp.before_request
def _limit_body() -> None:
    """Refuse an oversized body before reading it; cap what is read when no length is sent."""
    limit = services.MAX_LIST_BYTES + _MULTIPART_OVERHEAD
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    request.max_content_length = limit


@bp.errorhandler(RequestEntityTooLarge)
def _body_too_large(_error):
    return render(_too_large())


def _masked(value: str) -> str:
    return value if sees_personal_data() or not value else mask(value)


def _joined_counts(rows: list[WarningRow]) -> dict[int, int]:
    """Task id → rows of any list counted on it (joined: repeats of an open task)."""
    ids = [row.id for row in rows if row.status == "matched"]
    if not ids:
        return {}
    return dict(db.session().execute(
        select(WarningRow.task_id, func.count()).where(WarningRow.task_id.in_(ids),
                                                        WarningRow.status == "joined")
        .group_by(WarningRow.task_id)).all())


def _row(row: WarningRow, person_name: str | None, joined: dict[int, int]) -> dict:
    return {
        "id": row.id, "list_id": row.list_id, "row_number": row.row_number,
        "department": row.department, "id_number": _masked(row.id_number),
        "person_name": person_name, "reason": row.reason, "reported_on": row.reported_on,
        "status": row.status, "error": row.error, "household_id": row.household_id,
        "area_code": row.area_code, "open": row.status == "matched" and row.check_result is None,
        "check_result": row.check_result, "outcome": row.outcome,
        "outcome_label": WARNING_CHECK_OUTCOME.label(row.outcome) if row.outcome else None,
        "checked_by": row.checked_by, "checked_at": row.checked_at, "case_id": row.case_id,
        "task_id": row.task_id, "joined_rows": joined.get(row.id, 0),
    }


def _rows_query():
    return (select(WarningRow, Person.name)
            .outerjoin(Person, Person.id_number == WarningRow.id_number))


def _counts(list_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {
        list_id: {"total": 0, "open_tasks": 0, **dict.fromkeys(services.STATUSES, 0)}
        for list_id in list_ids}
    if not list_ids:
        return counts
    unchecked = func.sum(case((WarningRow.check_result.is_(None), 1), else_=0))
    for list_id, status, number, open_number in db.session().execute(
            select(WarningRow.list_id, WarningRow.status, func.count(), unchecked)
            .where(WarningRow.list_id.in_(list_ids))
            .group_by(WarningRow.list_id, WarningRow.status)):
        counts[list_id][status] = number
        counts[list_id]["total"] += number
        if status == "matched":
            counts[list_id]["open_tasks"] = int(open_number or 0)
    return counts


def _list(warning_list: WarningList, counts: dict[str, int]) -> dict:
    return {"id": warning_list.id, "filename": warning_list.filename,
            "uploaded_by": warning_list.uploaded_by, "uploaded_at": warning_list.uploaded_at,
            "area_code": warning_list.area_code, **counts}


def _list_in_area(list_id: int) -> WarningList:
    warning_list = db.session().scalar(select(WarningList).where(
        WarningList.id == list_id, in_area(WarningList.area_code)))
    if warning_list is None:
        raise AppError("NOT_FOUND")
    return warning_list


@bp.route("/warning-lists")
class WarningLists(MethodView):
    @bp.response(200, WarningListSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, pagination_parameters):
        """部门预警名单列表（本辖区，最新在前）"""
        query = (select(WarningList).where(in_area(WarningList.area_code))
                 .order_by(WarningList.id.desc()))
        lists = db.session().scalars(one_page(query, pagination_parameters)).all()
        counts = _counts([item.id for item in lists])
        return [_list(item, counts[item.id]) for item in lists]

    @bp.arguments(WarningUploadSchema, location="files")
    @bp.response(201, ImportReportSchema)
    @errors(bp, 400, 403, 413)
    def post(self, files):
        """上传部门预警名单（县级）：按身份证号码匹配农户，交办村级入户核查

        返回导入报告：匹配、未匹配、无效的行数，以及未匹配和无效各行的行号和原因。"""
        upload = files["file"]
        content = upload.stream.read(services.MAX_LIST_BYTES + 1)
        report = services.import_warning_list(
            db.session(), current_app.extensions["fangpin.media"], current_user(),
            upload.filename or "", content, today())
        warning_list = db.session().get(WarningList, report.list_id)
        problems = db.session().scalars(select(WarningRow).where(
            WarningRow.list_id == report.list_id,
            WarningRow.status.in_(("unmatched", "invalid", "already_checked")))
            .order_by(WarningRow.row_number)).all()
        rendered = {"unmatched": [], "invalid": [], "already_checked": []}
        found = {"invalid": report.invalid, "already_checked": report.already_checked}
        for row in problems:
            problem = (found[row.status][row.row_number] if row.status in found
                       else Message("WARNING_ROW_UNMATCHED"))
            rendered[row.status].append({
                "row_number": row.row_number, "department": row.department,
                "id_number": _masked(row.id_number), "reason": row.reason,
                "problem": row.error or "",
                "problem_code": problem.code,
                "task_id": row.task_id})
        return {"list": _list(warning_list, _counts([report.list_id])[report.list_id]),
                "matched": report.matched, "unmatched": len(report.unmatched),
                "invalid": len(report.invalid), "joined": report.joined,
                "already_checked": len(report.already_checked),
                "unmatched_rows": rendered["unmatched"], "invalid_rows": rendered["invalid"],
                "already_checked_rows": rendered["already_checked"]}


@bp.route("/warning-lists/<int(min=1, max=2147483647):list_id>")
class WarningListById(MethodView):
    @bp.arguments(WarningRowQueryArgsSchema, location="query")
    @bp.response(200, WarningListDetailSchema)
    @errors(bp, 404)
    def get(self, args, list_id):
        """预警名单详情及各行（可按状态筛选：matched、joined、already_checked、unmatched、invalid）"""
        warning_list = _list_in_area(list_id)
        query = _rows_query().where(WarningRow.list_id == list_id).order_by(
            WarningRow.row_number, WarningRow.id)
        query = where_equal(query, args, WarningRow, "status")
        rows = db.session().execute(query).all()
        joined = _joined_counts([row for row, _ in rows])
        return {**_list(warning_list, _counts([list_id])[list_id]),
                "rows": [_row(row, name, joined) for row, name in rows]}


@bp.route("/warning-lists/<int(min=1, max=2147483647):list_id>/file")
class WarningListFile(MethodView):
    @bp.doc(responses={"200": {"description": "上传的原始文件", "content": {
        content_type: {"schema": {"type": "string", "format": "binary"}}
        for content_type in services.CONTENT_TYPES.values()}}})
    @errors(bp, 404)
    @db.writes
    def get(self, list_id):
        """下载上传的原始名单文件（记入审计日志）"""
        _list_in_area(list_id)
        warning_list, content_type, stream = services.list_file(
            db.session(), current_app.extensions["fangpin.media"], list_id, current_user())
        response = send_file(stream, mimetype=content_type.split(";")[0], as_attachment=True,
                             download_name=warning_list.filename, max_age=0)
        # werkzeug appends "; charset=utf-8" to any text/* mimetype: set the file's own, once
        response.content_type = content_type
        return response


@bp.route("/warning-tasks")
class WarningTasks(MethodView):
    @bp.arguments(WarningTaskQueryArgsSchema, location="query")
    @bp.response(200, WarningRowSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """入户核查任务（本辖区的已匹配预警，含已反馈的）"""
        query = _rows_query().where(WarningRow.status == "matched",
                                    in_area(WarningRow.area_code)).order_by(WarningRow.id)
        if "open" in args:
            unchecked = WarningRow.check_result.is_(None)
            query = query.where(unchecked if args["open"] else ~unchecked)
        query = where_equal(query, args, WarningRow, "list_id", "outcome")
        query = where_in_area(query, args, WarningRow.area_code)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        joined = _joined_counts([row for row, _ in rows])
        return [_row(row, name, joined) for row, name in rows]


@bp.route("/warning-tasks/<int(min=1, max=2147483647):row_id>/result")
class WarningTaskResult(MethodView):
    @bp.arguments(WarningCheckSchema)
    @bp.response(200, WarningRowSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, data, row_id):
        """反馈入户核查结果（村级、乡镇）：01 无风险；02 纳入监测识别程序；03 无法核实"""
        row = services.record_check(db.session(), row_id, current_user(), data["result"],
                                    data["outcome"])
        name = db.session().scalar(select(Person.name).where(
            Person.id_number == row.id_number))
        return _row(row, name, _joined_counts([row]))
