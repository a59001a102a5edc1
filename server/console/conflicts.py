"""冲突 and 疑似重复 (SPEC §5): what deduplication holds for a reviewer to decide, inside their
area. A conflict shows its two sides — the held submission's roster beside the registered
households — and is resolved as the same household, a real move or 分户 (with its reason), or
an entry error; a likely duplicate shows its two people and is judged the same person or not.
Each page shows the decision's audit entry once it is made.

Reads are ``server.dedup.queries``; the decisions ``server.dedup.services``, as the REST API
calls them (a conflict's submission is taken in again once its last conflict is resolved).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from server import db
from server.areas.queries import area_labels
from server.clock import today
from server.console import bp, session
from server.console.households import page_number
from server.dedup import queries, services
from server.domain import fields
from server.domain.dedup import (
    CONFLICT_STATUS_NAMES,
    FLAG_STATUS_NAMES,
    RESOLUTION_NAMES,
    RESOLUTIONS,
    ConflictKind,
    Resolution,
)
from server.domain.roles import REVIEWING_ROLES
from server.errors import AppError
from server.submissions.models import STATE_NAMES, SubmissionState

PAGE_SIZE = 50  # the lists show what is open unless asked otherwise (?status=all)


def _listing(query, page: int):
    return query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)


@bp.get("/conflicts")
@session.login_required(*REVIEWING_ROLES)
def conflicts():
    user, dbs = session.current_user(), db.session()
    status = request.args.get("status", "open")
    filters = {"status": status} if status in CONFLICT_STATUS_NAMES else {}
    page = page_number()
    rows = dbs.execute(_listing(queries.conflicts_query(user, filters), page)).all()
    return render_template(
        "console/conflicts.html", conflicts=[queries.conflict_view(r) for r in rows[:PAGE_SIZE]],
        page=page, more=len(rows) > PAGE_SIZE, status=status,
        status_names=CONFLICT_STATUS_NAMES, resolution_names=RESOLUTION_NAMES,
        state_names=STATE_NAMES)


def _conflict_page(conflict_id: int, *, error: AppError | None = None, status: int = 200,
                   choice: str = "", note: str = ""):
    user, dbs = session.current_user(), db.session()
    detail = queries.conflict_detail(dbs, user, conflict_id, today())
    areas = [detail.address or "", *(h.area_code for h in detail.households)]
    page = render_template(
        "console/conflict.html", detail=detail, conflict=detail.conflict,
        places=area_labels(dbs, areas),
        resolutions=[r for r in Resolution
                     if r in RESOLUTIONS[ConflictKind(detail.conflict.kind)]],
        resolution_names=RESOLUTION_NAMES, status_names=CONFLICT_STATUS_NAMES,
        state_names=STATE_NAMES, fields=fields, error=error, choice=choice, note=note)
    return page, status


@bp.get("/conflicts/<id:conflict_id>")
@session.login_required(*REVIEWING_ROLES)
def conflict(conflict_id: int):
    return _conflict_page(conflict_id)


@bp.post("/conflicts/<id:conflict_id>/resolve")
@session.login_required(*REVIEWING_ROLES)
def conflict_resolve(conflict_id: int):
    user, dbs = session.current_user(), db.session()
    queries.readable_conflict(dbs, user, conflict_id)  # inside the area, or NOT_FOUND
    choice = request.form.get("resolution", "")
    note = request.form.get("note", "").strip()[:2000]
    try:
        if choice not in {r.value for r in Resolution}:
            raise AppError("FIELD_REQUIRED", label="处理方式")
        submission = services.resolve_conflict(dbs, conflict_id, Resolution(choice), user.id,
                                               note)
    except AppError as error:
        return _conflict_page(conflict_id, error=error, status=error.status, choice=choice,
                              note=note)
    if submission.state == SubmissionState.RECEIVED:  # every conflict closed: take it in again
        current_app.extensions["fangpin.take_in"].submission_stored(dbs, submission.id)
    db.commit()  # the page it leads to shows what the take-in made of it
    flash(f"已处理冲突 {conflict_id}：{RESOLUTION_NAMES[Resolution(choice)]}。", "success")
    return redirect(url_for("console.conflict", conflict_id=conflict_id))


@bp.get("/duplicates")
@session.login_required(*REVIEWING_ROLES)
def duplicates():
    user, dbs = session.current_user(), db.session()
    status = request.args.get("status", "open")
    filters = {"status": status} if status in FLAG_STATUS_NAMES else {}
    page = page_number()
    flags = dbs.scalars(_listing(queries.flags_query(user, filters), page)).all()
    views = queries.flag_views(dbs, user, flags[:PAGE_SIZE])
    return render_template("console/duplicates.html", flags=views, page=page,
                           more=len(flags) > PAGE_SIZE, status=status,
                           status_names=FLAG_STATUS_NAMES)


def _duplicate_page(flag_id: int, *, error: AppError | None = None, status: int = 200):
    user, dbs = session.current_user(), db.session()
    detail = queries.flag_detail(dbs, user, flag_id, today())
    households = [h for h in (detail.household_a, detail.household_b) if h is not None]
    decides = services.may_judge(dbs, user, flag_id)
    page = render_template(
        "console/duplicate.html", detail=detail, flag=detail.flag, decides=decides,
        places=area_labels(dbs, [h.area_code for h in households]),
        status_names=FLAG_STATUS_NAMES, fields=fields, error=error)
    return page, status


@bp.get("/duplicates/<id:flag_id>")
@session.login_required(*REVIEWING_ROLES)
def duplicate(flag_id: int):
    return _duplicate_page(flag_id)


@bp.post("/duplicates/<id:flag_id>/judge")
@session.login_required(*REVIEWING_ROLES)
def duplicate_judge(flag_id: int):
    user, dbs = session.current_user(), db.session()
    queries.readable_flag(dbs, user, flag_id)  # visible to the user, or NOT_FOUND
    verdict = {"1": True, "0": False}.get(request.form.get("same_person", ""))
    if verdict is None:
        return _duplicate_page(flag_id, error=AppError("FIELD_REQUIRED", label="判定结果"),
                               status=422)
    services.judge_duplicate(dbs, flag_id, verdict, user)
    flash("已判定：" + ("是同一人，请更正录入。" if verdict else "不是同一人，此后不再标记。"),
          "success")
    return redirect(url_for("console.duplicate", flag_id=flag_id))
