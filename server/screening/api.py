"""REST: department warning lists (部门筛查预警) and the home-check tasks they hand out.

Lists are the county's: a list belongs to the uploader's area, so only users whose area holds
it (county, admin) see lists, their rows and the original file. Tasks (matched rows) belong to
the household's area: village and township users see the tasks of their area and feed back the
results; everyone else sees them area-scoped too. ID numbers are masked but for county/admin.
"""

from __future__ import annotations

from flask import current_app, send_file
from flask.views import MethodView

from server import db
from server.clock import today
from server.errors import limit_body
from server.rest import blueprint, current_user, errors, one_page
from server.screening import queries, services
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


@bp.before_request
def _limit_body() -> None:
    limit_body(services.MAX_LIST_BYTES, "WARNING_LIST_TOO_LARGE", overhead=_MULTIPART_OVERHEAD)


@bp.route("/warning-lists")
class WarningLists(MethodView):
    @bp.response(200, WarningListSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, pagination_parameters):
        """部门预警名单列表（本辖区，最新在前）"""
        session = db.session()
        query = queries.lists_query(current_user())
        return queries.list_views(session,
                                  session.scalars(one_page(query, pagination_parameters)).all())

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
        return queries.import_report_view(db.session(), report)


@bp.route("/warning-lists/<id:list_id>")
class WarningListById(MethodView):
    @bp.arguments(WarningRowQueryArgsSchema, location="query")
    @bp.response(200, WarningListDetailSchema)
    @errors(bp, 404)
    def get(self, args, list_id):
        """预警名单详情及各行（可按状态筛选：matched、joined、already_checked、unmatched、invalid）"""
        return queries.list_detail(db.session(), current_user(), list_id, args)


@bp.route("/warning-lists/<id:list_id>/file")
class WarningListFile(MethodView):
    @bp.doc(responses={"200": {"description": "上传的原始文件", "content": {
        content_type: {"schema": {"type": "string", "format": "binary"}}
        for content_type in services.CONTENT_TYPES.values()}}})
    @errors(bp, 404)
    @db.writes
    def get(self, list_id):
        """下载上传的原始名单文件（记入审计日志）"""
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
        session = db.session()
        query = queries.tasks_query(current_user(), args)
        return queries.task_views(session,
                                  session.execute(one_page(query, pagination_parameters)).all())


@bp.route("/warning-tasks/<id:row_id>/result")
class WarningTaskResult(MethodView):
    @bp.arguments(WarningCheckSchema)
    @bp.response(200, WarningRowSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, data, row_id):
        """反馈入户核查结果（村级、乡镇）：01 无风险；02 纳入监测识别程序；03 无法核实"""
        row = services.record_check(db.session(), row_id, current_user(), data["result"],
                                    data["outcome"])
        return queries.task_view(db.session(), row)
