"""部门预警 (SPEC §6 部门筛查、集中交办、入户核查、结果反馈): the county uploads a department's
warning list and reads the import report; the lists and their rows; the home-check tasks of the
user's area, whose results village and township users feed back.

The services are the REST API's (``server.screening``): ``import_warning_list`` and
``import_report_view``, ``lists_query``/``list_views``, ``list_detail``, ``list_file``,
``tasks_query``/``task_views``, ``record_check``. Lists are the county's (county and admin users);
tasks are everyone's, inside their area. ID numbers are shown by the one masking rule (the
templates' ``shown_id``, ``server.console.shown``).
"""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from server import db
from server.areas.services import area_names
from server.clock import today
from server.console import bp, session
from server.domain.codes import WARNING_CHECK_OUTCOME
from server.domain.roles import Role
from server.errors import AppError, limit_body
from server.screening import queries, services

LIST_ROLES = (Role.COUNTY, Role.ADMIN)  # who uploads and reads lists (the county's)
PAGE_SIZE = 50
# Multipart framing around the file (boundaries, part headers, the CSRF field).
_MULTIPART_OVERHEAD = 64 * 1024
STATUS_NAMES = {"matched": "已交办", "joined": "并入已有任务", "already_checked": "已核查过",
                "unmatched": "未匹配", "invalid": "无效"}


@bp.before_app_request
def _limit_upload() -> None:
    """The list's size limit, before anything reads the body (the CSRF check reads the form)."""
    if request.endpoint == "console.warning_upload" and request.method == "POST":
        limit_body(services.MAX_LIST_BYTES, "WARNING_LIST_TOO_LARGE",
                   overhead=_MULTIPART_OVERHEAD)


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 10**6))
    except ValueError:
        return 1


def link(endpoint: str, **values) -> str | None:
    """The URL of another console page, or None while that page does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _lists_page(errors: dict | None = None, status: int = 200):
    user = session.current_user()
    page = _page_number()
    query = queries.lists_query(user)
    total = db.session().scalar(select(func.count()).select_from(query.subquery()))
    lists = queries.list_views(db.session(), db.session().scalars(
        query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all())
    return render_template("console/warnings.html", lists=lists, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), errors=errors or {},
                           max_mb=services.MAX_LIST_BYTES // (1024 * 1024),
                           max_rows=services.MAX_ROWS), status


@bp.get("/warnings")
@session.login_required()
def warnings():
    """The county's lists and the upload form; other roles go to their tasks."""
    if session.current_user().role not in LIST_ROLES:
        return redirect(url_for("console.warning_tasks"))
    return _lists_page()


@bp.post("/warnings")
@session.login_required(*LIST_ROLES)
def warning_upload():
    """Upload a list: the import report is the answer (the rows that opened no task, why)."""
    upload = request.files.get("file")
    content = upload.stream.read(services.MAX_LIST_BYTES + 1) if upload else b""
    try:  # no file, an empty one, a wrong type: the service says which (LIST_EMPTY …)
        report = services.import_warning_list(
            db.session(), current_app.extensions["fangpin.media"], session.current_user(),
            upload.filename if upload else "", content, today())
    except AppError as error:
        return _lists_page({"file": error}, error.status)
    view = queries.import_report_view(db.session(), report)
    return render_template("console/warning_report.html", report=view,
                           status_names=STATUS_NAMES), 201


@bp.get("/warnings/<id:list_id>")
@session.login_required(*LIST_ROLES)
def warning_list(list_id: int):
    status = request.args.get("status") or None
    filters = {"status": status} if status in STATUS_NAMES else {}
    detail = queries.list_detail(db.session(), session.current_user(), list_id, filters)
    return render_template("console/warning_list.html", detail=detail, status=status,
                           status_names=STATUS_NAMES,
                           names=area_names(db.session(), detail.area_code), link=link)


@bp.get("/warnings/<id:list_id>/file")
@session.login_required(*LIST_ROLES)
@db.writes
def warning_list_file(list_id: int):
    """The file as uploaded (an export of personal data: audited by the service)."""
    warning_list, content_type, stream = services.list_file(
        db.session(), current_app.extensions["fangpin.media"], list_id, session.current_user())
    response = send_file(stream, mimetype=content_type.split(";")[0], as_attachment=True,
                         download_name=warning_list.filename, max_age=0)
    response.content_type = content_type
    return response


def _tasks_page(errors: dict[int, AppError] | None = None, status: int = 200,
                kept: dict[int, dict] | None = None):
    user = session.current_user()
    shown = request.args.get("open", "1")
    filters: dict = {"open": shown == "1"} if shown in ("0", "1") else {}
    if request.args.get("list_id", "").isdigit():
        filters["list_id"] = int(request.args["list_id"])
    query = queries.tasks_query(user, filters)
    total = db.session().scalar(select(func.count()).select_from(query.subquery()))
    page = _page_number()
    tasks = queries.task_views(db.session(), db.session().execute(
        query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all())
    return render_template(
        "console/warning_tasks.html", tasks=tasks, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), shown_filter=shown,
        list_id=filters.get("list_id"), errors=errors or {}, kept=kept or {},
        checks=user.role in services.CHECKING_ROLES, outcomes=WARNING_CHECK_OUTCOME.codes,
        names=area_names(db.session(), user.area_code), link=link,
        lists=user.role in LIST_ROLES), status


@bp.get("/warnings/tasks")
@session.login_required()
def warning_tasks():
    """The home-check tasks of the user's area: open ones first by default."""
    return _tasks_page()


@bp.post("/warnings/tasks/<id:row_id>/result")
@session.login_required()
def warning_task_result(row_id: int):
    """Feed back a home check's result (village, township); a refusal is shown on the row."""
    result = request.form.get("result", "")
    outcome = request.form.get("outcome", "")
    try:
        row = services.record_check(db.session(), row_id, session.current_user(), result,
                                    outcome)
    except AppError as error:
        if error.code in ("NOT_FOUND", "FORBIDDEN_ROLE"):
            raise  # the error page, as for any page the user may not open
        return _tasks_page({row_id: error}, error.status,
                           {row_id: {"result": result, "outcome": outcome}})
    message = f"已反馈第 {row.row_number} 行（{row.department}）的核查结果。"
    if row.case_id:
        message += f"已纳入识别程序：案件 {row.case_id}。"
    flash(message, "success")
    return redirect(url_for("console.warning_tasks", **{
        key: value for key, value in request.args.items() if key in ("open", "list_id",
                                                                      "page")}))
