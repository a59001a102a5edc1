"""农户: the registry's households of the user's area — a list searched by a member's name, a
member's full ID number or the village — and a household's page: its members, the A-fields of
its latest survey with the server's figures (and where the phone computed otherwise), two
survey versions side by side, photos (thumbnails made once, full size on click), signatures,
the GPS point, measures, cases, conflicts and likely duplicates.

Every read is a read service of its package (``server.households.queries`` and the others),
scoped to the user's area: a household outside it is 404 NOT_FOUND, as over the REST API.
"""

from __future__ import annotations

from itertools import groupby

from flask import current_app, render_template, request, send_file
from werkzeug.wrappers import Response

from media import MediaNotFound, NotAnImage, cached_thumbnail
from server import db
from server.areas.queries import area_labels, areas_query
from server.clock import today
from server.console import bp, session
from server.dedup.queries import conflict_view, conflicts_query, flag_views, flags_query
from server.domain import fields
from server.domain.dedup import CONFLICT_STATUS_NAMES, FLAG_STATUS_NAMES, RESOLUTION_NAMES
from server.domain.fields import Scope
from server.domain.pipeline import PROCEDURE_NAMES, STEP_NAMES
from server.domain.roles import REVIEWING_ROLES
from server.domain.sheets import compare, geopoint, sheet
from server.errors import AppError
from server.households import queries
from server.pipeline.queries import case_views, cases_query

PAGE_SIZE = 50
# What a household's page lists of its cases, conflicts and flags: the latest ones.
LISTED = 50
CASE_STATUS_NAMES = {"open": "办理中", "done": "已办结", "rejected": "已驳回"}


def page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 10**6))
    except ValueError:
        return 1


def _search() -> dict:
    """The list's search, as typed (kept in the form) and as filters of ``households_query``.
    The search is a POST form (with its CSRF token) so that an ID number never is in a URL,
    and so in no access log or browser history (issue 15); paging links keep name and village
    only. An ``id_number`` in the URL is refused (400 ID_NUMBER_IN_URL)."""
    if "id_number" in request.args:
        raise AppError("ID_NUMBER_IN_URL")
    form = request.form if request.method == "POST" else request.args
    typed = {"name": form.get("name", "").strip()[:50],
             "id_number": request.form.get("id_number", "").strip()[:40],
             "village": form.get("village", "").strip()[:15]}
    filters = {key: typed[key] for key in ("name", "id_number") if typed[key]}
    if typed["village"].isdigit():
        filters["area_code"] = typed["village"]
    return {"typed": typed, "filters": filters}


@bp.route("/households", methods=["GET", "POST"])
@session.login_required()
def households():
    user, dbs = session.current_user(), db.session()
    search = _search()
    page = page_number()
    rows = dbs.execute(queries.households_query(user, search["filters"])
                       .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    found = [queries.household_summary(row) for row in rows[:PAGE_SIZE]]
    villages = dbs.scalars(areas_query(user, {"level": "village"})).all()
    return render_template(
        "console/households.html", households=found, page=page, more=len(rows) > PAGE_SIZE,
        places=area_labels(dbs, [h.area_code for h in found]), villages=villages,
        search=search["typed"], monitoring_type=fields.MONITORING_TYPE)


def _chosen(name: str, numbers: list[int], default: int | None) -> int | None:
    try:
        number = int(request.args.get(name, ""))
    except ValueError:
        return default
    return number if number in numbers else default


@bp.get("/households/<household_id>")
@session.login_required()
def household(household_id: str):
    user, dbs, day = session.current_user(), db.session(), today()
    detail = queries.household_detail(dbs, user, household_id, day)
    surveys = queries.survey_list(dbs, user, household_id)
    numbers = [survey.number for survey in surveys]
    right = _chosen("b", numbers, numbers[-1] if numbers else None)
    left = _chosen("a", numbers, numbers[-2] if len(numbers) > 1 else None)
    comparison = None
    if left is not None and right is not None and left != right:
        older, newer = (queries.survey_version(dbs, user, household_id, number)
                        for number in (left, right))
        comparison = compare(*queries.survey_values(older), *queries.survey_values(newer))
    latest = detail.latest_survey
    values, _members = queries.survey_values(latest) if latest else ({}, [])
    files = queries.household_files(dbs, user, household_id)
    cases = dbs.scalars(cases_query(dbs, user, {"household_id": household_id}, day)
                        .limit(LISTED)).all()
    reviewer = user.role in REVIEWING_ROLES
    return render_template(
        "console/household.html", household=detail,
        place=area_labels(dbs, [detail.area_code]).get(detail.area_code),
        a_fields=sheet(values, coded_only=True),
        others=[(spec, value) for spec, value in sheet(values) if not spec.code],
        differences={d.field: d for d in latest.phone_differs} if latest else {},
        surveys=surveys, left=left, right=right, comparison=comparison,
        show_all=request.args.get("all") == "1",
        pictures=[(key, sorted(group, key=lambda f: f.signature)) for key, group in groupby(
            files, key=lambda f: (f.submission_id, f.form_title, f.received_at))],
        gps=geopoint(values.get(fields.BY_NAME["visit_location"].name)),
        measures=queries.household_measures(dbs, user, household_id),
        measure_fields=[(spec, fields.effect_of(spec)) for spec in fields.MEASURES],
        cases=case_views(dbs, cases, day),
        cases_url=f"{request.script_root}{bp.url_prefix}/cases/",  # the case pages' (案件)
        conflicts=[conflict_view(row) for row in dbs.execute(
            conflicts_query(user, {"household_id": household_id}).limit(LISTED))],
        flags=flag_views(dbs, user, dbs.scalars(
            flags_query(user, {"household_id": household_id}).limit(LISTED)).all()),
        reviewer=reviewer, member_scope=Scope.MEMBER, fields=fields,
        procedure_names=PROCEDURE_NAMES, step_names=STEP_NAMES,
        case_status_names=CASE_STATUS_NAMES, conflict_status_names=CONFLICT_STATUS_NAMES,
        flag_status_names=FLAG_STATUS_NAMES, resolution_names=RESOLUTION_NAMES)


_FILE = "/households/<household_id>/{kind}/<id:submission_id>/<name>"


@bp.get(_FILE.format(kind="thumbnails"))
@session.login_required()
def household_thumbnail(household_id: str, submission_id: int, name: str):
    """A photo's or a signature's thumbnail: made once with Pillow, then read from the media
    store (``media.thumbnails``)."""
    found = queries.household_file(db.session(), session.current_user(), household_id,
                                   submission_id, name)
    if not found.image:
        raise AppError("NOT_FOUND")
    try:
        made = cached_thumbnail(current_app.extensions["fangpin.media"], found.media_sha256)
    except (MediaNotFound, NotAnImage):
        raise AppError("NOT_FOUND") from None
    return Response(made, mimetype="image/jpeg")


@bp.get(_FILE.format(kind="files"))
@session.login_required()
@db.writes
def household_file(household_id: str, submission_id: int, name: str):
    """A photo or a signature in full size: personal data leaving the server, audited."""
    found = queries.download_household_file(db.session(), session.current_user(), household_id,
                                            submission_id, name)
    try:
        stream = current_app.extensions["fangpin.media"].open(found.media_sha256)
    except MediaNotFound:
        raise AppError("NOT_FOUND") from None
    return send_file(stream, mimetype=found.content_type or "application/octet-stream",
                     as_attachment=not found.image, download_name=name, max_age=0)
