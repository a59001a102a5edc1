"""后台任务: the user's background jobs (large exports, print batches) — state and progress,
refreshed by htmx every two seconds while one runs — and the file of a finished one. The
services are the REST API's (``server.jobs.queries``)."""

from __future__ import annotations

from flask import current_app, render_template, request

from media import MediaNotFound
from server import db
from server.audit.services import record
from server.console import bp, session
from server.errors import AppError
from server.jobs.queries import job_file, job_view, jobs_query
from server.rest import file_download

SHOWN = 50  # the newest jobs listed


@bp.get("/jobs")
@session.login_required()
def jobs():
    views = [job_view(job) for job in db.session().scalars(
        jobs_query(session.current_user()).limit(SHOWN))]
    running = any(view.state in ("queued", "running") for view in views)
    template = "console/_jobs_table.html" if request.headers.get("HX-Request") \
        else "console/jobs.html"
    return render_template(template, jobs=views, running=running)


@bp.get("/jobs/<id:job_id>/file")
@session.login_required()
@db.writes
def job_download(job_id: int):
    user = session.current_user()
    job = job_file(db.session(), user, job_id)
    store = current_app.extensions["fangpin.media"]
    try:
        stream = store.open(job.result_key)
    except MediaNotFound:
        raise AppError("NOT_FOUND") from None
    record(db.session(), "job.downloaded", "job", job.id, user.id, name=job.result_name)
    return file_download(stream, job.result_size or store.size(job.result_key),
                         job.result_type, job.result_name)
