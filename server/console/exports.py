"""下载 (exports) from the console's lists: the same service as ``GET /api/v1/exports`` and
``fangpin export`` (the role, the arguments, masking, the audit entry), streamed.

The 农户 and 案件 lists carry a download form with their current filters where they map onto
the export's (the village → ``area_code``; a case list's procedure, step, status and A3 type);
what the export cannot filter by (a member's name or ID number, overdue cases) is said beside
the button. Only roles that may export see it (``EXPORTING_ROLES``), and the full-numbers box
only roles that may see full numbers.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for

from server import db
from server.console import bp, session
from server.domain import personal
from server.exports import jobs as export_jobs
from server.exports import services
from server.exports.download import streamed, streamed_media
from server.exports.schemas import FILTER_KEYS


@bp.get("/exports/media")
@session.login_required(*services.MEDIA_ROLES)
def export_media():
    """The photos and signatures of the list's households (the form's file options, which a
    ZIP has not, are left aside)."""
    arguments = {k: v for k, v in request.args.items() if k in FILTER_KEYS}
    prepared = services.prepare_media(db.session(), session.current_user(), arguments)
    return streamed_media(prepared)


@bp.post("/exports/<dataset>/jobs")
@session.login_required(*services.EXPORTING_ROLES)
def export_job(dataset: str):
    """后台导出: the list's download form posted by htmx (its CSRF header), queued as a job;
    the answer sends the browser to 后台任务."""
    arguments = {k: v for k, v in request.form.items() if k != "csrf_token"}
    export_jobs.submit(db.session(), session.current_user(), dataset, arguments,
                       current_app.extensions["fangpin.jobs"])
    flash("已提交后台导出，完成后在此下载。", "success")
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": url_for("console.jobs")}
    return redirect(url_for("console.jobs"))


@bp.get("/exports/<dataset>")
@session.login_required(*services.EXPORTING_ROLES)
def export(dataset: str):
    prepared = services.prepare(db.session(), session.current_user(), dataset,
                                request.args.to_dict())
    return streamed(prepared)


@bp.context_processor
def _export_rights() -> dict:
    user = g.get("console_user")
    return {"can_export": user is not None and user.role in services.EXPORTING_ROLES,
            "can_export_full": user is not None and personal.may_export_full(user.role)}
