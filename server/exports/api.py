"""REST: ``GET /api/v1/exports/<dataset>`` — a dataset as CSV or XLSX, streamed, audited.

The view only prepares the export (every refusal happens here, before a byte is sent) and
returns the streamed file; ``server.exports.services.produce`` reads the rows in a unit of work
of its own and audits the export when the stream ends.
"""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView

from server import db
from server.domain.datasets import DATASETS
from server.exports import jobs as export_jobs
from server.exports import services, writers
from server.exports.download import streamed, streamed_media
from server.exports.schemas import FILTER_KEYS, ExportArgsSchema
from server.jobs.queries import job_view
from server.jobs.schemas import JobSchema
from server.rest import blueprint, current_user, errors

bp = blueprint("exports", __name__, "/exports", "数据导出（县级：CSV/XLSX，流式，记入审计日志）")

_PARAMETERS = [
    {"in": "query", "name": name, "required": False,
     "schema": {"type": "string"}, "description": field.metadata.get("description", "")}
    for name, field in ExportArgsSchema().fields.items()
]
_FILTER_PARAMETERS = [p for p in _PARAMETERS if p["name"] in FILTER_KEYS]
_FILE = {"200": {"description": "导出文件（CSV：UTF-8 带 BOM，首行为导出说明；"
                                "XLSX：首个工作表为导出说明）",
                 "content": {writers.CSV_CONTENT_TYPE.split(";")[0]: {
                     "schema": {"type": "string", "format": "binary"}},
                     writers.XLSX_CONTENT_TYPE: {
                     "schema": {"type": "string", "format": "binary"}}}}}


@bp.route("/media")
class ExportMedia(MethodView):
    @bp.doc(parameters=_FILTER_PARAMETERS, responses={"200": {
        "description": "ZIP：<乡镇>/<村>/<户主姓名>_<户编号>/<字段>_<n>.jpg，根目录 manifest.csv",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
    @errors(bp, 403, 422)
    def get(self):
        """导出所选农户的照片和签名（ZIP，流式；县级、管理员：身份证照片含完整号码；记入审计日志）"""
        export = services.prepare_media(db.session(), current_user(), request.args.to_dict())
        return streamed_media(export)


@bp.route("/<dataset>/jobs")
class ExportJob(MethodView):
    @bp.doc(parameters=[{"in": "path", "name": "dataset", "required": True,
                         "schema": {"type": "string", "enum": [*DATASETS, "media"]},
                         "description": "数据集，或 media（照片和签名 ZIP）"}, *_PARAMETERS])
    @bp.response(202, JobSchema)
    @errors(bp, 403, 404, 422)
    def post(self, dataset):
        """后台导出（参数同 GET；立即返回任务，完成后从 /jobs/<id>/file 下载）：
        数据量大时使用，进度见 GET /jobs/<id>"""
        job = export_jobs.submit(db.session(), current_user(), dataset, request.args.to_dict(),
                                 current_app.extensions["fangpin.jobs"])
        return job_view(job)


@bp.route("/<dataset>")
class ExportDataset(MethodView):
    @bp.doc(parameters=[{"in": "path", "name": "dataset", "required": True,
                         "schema": {"type": "string", "enum": list(DATASETS)},
                         "description": "数据集"}, *_PARAMETERS],
            responses=_FILE)
    @errors(bp, 403, 404, 422)
    def get(self, dataset):
        """导出数据集（县级、管理员；乡镇限本乡镇且脱敏）：households 农户、members 家庭成员、
        measures 帮扶措施、eliminations 风险消除评估、cases 案件、case_events 案件流转记录、
        warnings 部门筛查预警任务、evaluations 帮扶成效评估。列按 A 码顺序，表头取自字段登记表；
        身份证号码和电话默认脱敏，full=1 仅县级和管理员可用；
        每次导出记入审计日志（export.created，含行数）"""
        export = services.prepare(db.session(), current_user(), dataset,
                                  request.args.to_dict())
        return streamed(export)

