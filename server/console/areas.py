"""区划 (county and admin users): the area tree below their own, with each area's registered
households and active users; the 村民小组 of a village added and renamed. The national table's
areas come from its import (``fangpin import-areas``); the rules are the area services'
(``server.areas.services``: who, where, the numbering, the names), the counts the reports'
(``server.reports.queries.area_population``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server import db
from server.areas import services
from server.areas.queries import area_path, area_view, areas_query, readable_area
from server.console import bp, session
from server.domain.areas import LEVEL_NAMES, AreaLevel, contains, is_national
from server.errors import AppError
from server.reports.queries import area_population

_CODE = "<string(minlength=4, maxlength=15):code>"


def _area_page(code: str, errors: dict | None = None, status: int = 200):
    user = session.current_user()
    area = readable_area(db.session(), user, code)
    children = [area_view(child) for child in db.session().scalars(
        areas_query(user, {"parent_code": area.code}))]
    population = area_population(db.session(), user, area.code)
    path = [step for step in area_path(db.session(), area.code)
            if contains(user.area_code, step.code)]
    return render_template(
        "console/areas.html", area=area_view(area), path=path, children=children,
        households=population.households, users=population.users,
        is_village=area.level == AreaLevel.VILLAGE, national=is_national,
        level_names=LEVEL_NAMES, errors=errors or {},
        name=request.form.get("name", "") if errors else ""), status


@bp.get("/areas")
@session.login_required(*services.AREA_MANAGERS)
def areas():
    return _area_page(request.args.get("code") or session.current_user().area_code)


@bp.post(f"/areas/{_CODE}/groups")
@session.login_required(*services.AREA_MANAGERS)
def area_group_add(code: str):
    try:
        group = services.add_group(db.session(), session.current_user(), code,
                                   request.form.get("name", ""))
    except AppError as error:
        if error.code == "NOT_FOUND":
            raise
        return _area_page(code, {"add": error}, error.status)
    flash(f"已添加村民小组 {group.name}（{group.code}）。", "success")
    return redirect(url_for("console.areas", code=code))


@bp.post(f"/areas/{_CODE}/name")
@session.login_required(*services.AREA_MANAGERS)
def area_rename(code: str):
    parent = code[:-3] if len(code) == 15 else code
    try:
        area = services.rename_area(db.session(), session.current_user(), code,
                                    request.form.get("name", ""))
    except AppError as error:
        if error.code == "NOT_FOUND":
            raise
        return _area_page(parent, {code: error}, error.status)
    flash(f"已将 {area.code} 改名为 {area.name}。", "success")
    return redirect(url_for("console.areas", code=parent))
