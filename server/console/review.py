"""审核: the submissions of the user's area the registry could not take in as they were —
invalid (failed the server's checks), held (a conflict: resolved on the 冲突 page) or failed
(taking them in raised) — each with its located problems in Chinese beside the values; a
reviewer corrects values and the submission is taken in again, or rejects it with a reason.

The reads are ``server.submissions.queries``; the actions ``server.submissions.review``, as the
REST API calls them; the layout of values and problems is ``server.domain.sheets``.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, send_file, url_for

from media import MediaNotFound
from server import db
from server.areas.queries import area_labels
from server.console import bp, session
from server.console.households import page_number
from server.console.shown import shown_field
from server.domain import codes
from server.domain.fields import Kind
from server.domain.roles import REVIEWING_ROLES
from server.domain.sheets import review_sheet
from server.errors import AppError
from server.listing import SortKey
from server.submissions import queries
from server.submissions.models import REVIEWABLE, STATE_NAMES, SubmissionState
from server.submissions.review import correct_submission, reject_submission

PAGE_SIZE = 50
_ID = "<id:submission_id>"
CORRECTABLE = frozenset({SubmissionState.INVALID, SubmissionState.FAILED})


@bp.get("/review")
@session.login_required(*REVIEWING_ROLES)
def review():
    user, dbs = session.current_user(), db.session()
    state = request.args.get("state", "")
    filters: dict = {"reviewable": True, "sort": (SortKey("received_at"),)}
    if state in {s.value for s in REVIEWABLE}:
        filters["state"] = state
    page = page_number()
    rows = dbs.execute(queries.submissions_query(user, filters)
                       .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    found = [queries.submission_view(row) for row in rows[:PAGE_SIZE]]
    return render_template(
        "console/review.html", submissions=found, page=page, more=len(rows) > PAGE_SIZE,
        state=state, states=REVIEWABLE, state_names=STATE_NAMES,
        places=area_labels(dbs, [s.area_code for s in found]))


def _submission_page(submission_id: int, *, error: AppError | None = None, status: int = 200,
                     typed: dict | None = None, reason: str = ""):
    user, dbs = session.current_user(), db.session()

    def file_url(name: str) -> str:
        return url_for("console.review_file", submission_id=submission_id, name=name)

    detail = queries.readable_submission(dbs, user, submission_id, file_url)
    values = queries.submission_values(dbs, user, submission_id)
    sheet = review_sheet(values.household, values.members, detail.problems, detail.corrections)
    address = values.household.get("addr_group") or values.household.get("addr_village")
    lines = [*sheet.household, *(line for member in sheet.members for line in member.lines)]
    page = render_template(
        "console/submission.html", submission=detail, sheet=sheet, address=address,
        place=area_labels(dbs, [address]).get(address) if address else None,
        state_names=STATE_NAMES, correctable=SubmissionState(detail.state) in CORRECTABLE,
        reviewable=SubmissionState(detail.state) in REVIEWABLE,
        prefill={line.key: _prefill(line, address) for line in lines},
        error=error, typed=typed or {}, reason=reason, Kind=Kind, tables=codes.TABLES)
    return page, status


def _current(line) -> str:
    return line.corrected if line.corrected is not None else line.value


def _prefill(line, household_area: str | None) -> str:
    """What a correction's input starts with: the value in force — unless the user may not
    see it in full (a masked ID or phone number), when the input starts empty."""
    value = _current(line)
    return value if shown_field(line.field, value, household_area) == value \
        or line.field.kind not in (Kind.ID_NUMBER, Kind.PHONE) else ""


@bp.get(f"/review/{_ID}")
@session.login_required(*REVIEWING_ROLES)
def review_submission(submission_id: int):
    return _submission_page(submission_id)


@bp.post(f"/review/{_ID}/correct")
@session.login_required(*REVIEWING_ROLES)
def review_correct(submission_id: int):
    """Corrections of the values the reviewer changed (an input left as it was, or emptied,
    corrects nothing), then the submission is taken in again (``TAKE_IN``)."""
    user, dbs = session.current_user(), db.session()
    values = queries.submission_values(dbs, user, submission_id)  # NOT_FOUND outside the area
    detail = queries.readable_submission(dbs, user, submission_id)
    sheet = review_sheet(values.household, values.members, detail.problems, detail.corrections)
    current = {line.key: _current(line) for line in
               [*sheet.household, *(line for member in sheet.members for line in member.lines)]}
    typed = {key.removeprefix("c:"): value.strip() for key, value in request.form.items()
             if key.startswith("c:")}
    extra_key = request.form.get("extra_key", "").strip()
    if extra_key:
        typed[extra_key] = request.form.get("extra_value", "").strip()
    corrections = {key: value for key, value in typed.items()
                   if value and value != current.get(key, "")}
    note = request.form.get("note", "").strip()[:2000]
    try:
        corrected = correct_submission(dbs, submission_id, user.id, user.area_code,
                                              corrections, note)
    except AppError as error:
        return _submission_page(submission_id, error=error, status=error.status, typed=typed)
    if corrected.state == SubmissionState.RECEIVED:
        current_app.extensions["fangpin.take_in"].submission_stored(dbs, corrected.id)
    db.commit()  # the page it leads to shows what the take-in made of it
    flash(f"已保存 {len(corrections)} 项更正，并重新入库。", "success")
    return redirect(url_for("console.review_submission", submission_id=submission_id))


@bp.post(f"/review/{_ID}/reject")
@session.login_required(*REVIEWING_ROLES)
def review_reject(submission_id: int):
    user, dbs = session.current_user(), db.session()
    reason = request.form.get("reason", "").strip()[:2000]
    queries.readable_submission(dbs, user, submission_id)  # NOT_FOUND outside the area
    try:
        reject_submission(dbs, submission_id, user.id, user.area_code, reason)
    except AppError as error:
        return _submission_page(submission_id, error=error, status=error.status, reason=reason)
    flash("已驳回该提交。", "success")
    return redirect(url_for("console.review_submission", submission_id=submission_id))


@bp.get(f"/review/{_ID}/files/<name>")
@session.login_required(*REVIEWING_ROLES)
@db.writes
def review_file(submission_id: int, name: str):
    """An attachment of the submission (a photo of the ID card, a signature): a download of
    personal data, audited as over the REST API."""
    found = queries.download_attachment(db.session(), session.current_user(), submission_id,
                                        name)
    try:
        stream = current_app.extensions["fangpin.media"].open(found.media_sha256)
    except MediaNotFound:
        raise AppError("NOT_FOUND") from None
    image = found.content_type.startswith("image/")
    return send_file(stream, mimetype=found.content_type, as_attachment=not image,
                     download_name=name, max_age=0)
