"""REST: the user's background jobs (large exports, print batches): state, progress, file."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from media import MediaNotFound
from server import db
from server.audit.services import record
from server.errors import AppError
from server.jobs.queries import job_file, job_view, jobs_query, readable_job
from server.jobs.schemas import JobSchema
from server.rest import blueprint, current_user, errors, file_download, one_page

bp = blueprint("jobs", __name__, "/jobs", "后台任务（大批量导出、批量打印）")


@bp.route("")
class Jobs(MethodView):
    @bp.response(200, JobSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, pagination_parameters):
        """我的后台任务（最新在前）"""
        query = jobs_query(current_user())
        return [job_view(job) for job in db.session().scalars(
            one_page(query, pagination_parameters))]


@bp.route("/<id:job_id>")
class JobDetail(MethodView):
    @bp.response(200, JobSchema)
    @errors(bp, 404)
    def get(self, job_id):
        """任务的状态和进度；完成后 file_url 为下载地址"""
        return job_view(readable_job(db.session(), current_user(), job_id))


@bp.route("/<id:job_id>/file")
class JobFile(MethodView):
    @bp.doc(responses={"200": {"description": "任务生成的文件",
                               "content": {"application/octet-stream": {
                                   "schema": {"type": "string", "format": "binary"}}}}})
    @errors(bp, 404, 409)
    @db.writes
    def get(self, job_id):
        """下载任务生成的文件（记入审计日志）"""
        user = current_user()
        job = job_file(db.session(), user, job_id)
        store = current_app.extensions["fangpin.media"]
        try:
            stream = store.open(job.result_key)
        except MediaNotFound:
            raise AppError("NOT_FOUND") from None
        record(db.session(), "job.downloaded", "job", job.id, user.id, name=job.result_name)
        return file_download(stream, job.result_size or store.size(job.result_key),
                             job.result_type, job.result_name)
