"""用户 (county and admin users): the users of their area; create, deactivate, reset a password;
a collecting user's Collect token — issued with its settings QR code, shown once — and revoked.
The rules are the account services' (``server.accounts.services``): who manages which role,
the area, the password policy."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func, select

from server import db
from server.accounts import collect, services
from server.accounts.queries import readable_user, users_query
from server.accounts.schemas import UserCreateSchema
from server.areas.services import area_names
from server.console import bp, session
from server.domain.personal import shown_phone
from server.domain.roles import COLLECTING_ROLES, ROLE_NAMES, Role
from server.errors import AppError

MANAGERS = tuple(services.MANAGED_ROLES)  # the roles that manage users
PAGE_SIZE = 50
_ID = "<id:user_id>"


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 10**6))
    except ValueError:
        return 1


@bp.get("/users")
@session.login_required(*MANAGERS)
def users():
    actor = session.current_user()
    role = request.args.get("role") or None
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    filters = {key: value for key, value in (("role", role if role in set(Role) else None),
                                             ("active", active)) if value is not None}
    query = users_query(actor, filters)
    total = db.session().scalar(select(func.count()).select_from(query.subquery()))
    page = _page_number()
    rows = db.session().execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("console/users.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), role=role, active=active,
                           role_names=ROLE_NAMES, manages=services.MANAGED_ROLES[actor.role])


def _grantable(actor) -> list[Role]:
    return [role for role in Role if role in services.MANAGED_ROLES[actor.role]]


@bp.route("/users/new", methods=["GET", "POST"])
@session.login_required(*MANAGERS)
def user_new():
    actor = session.current_user()
    form = {key: request.form.get(key, "").strip() for key in
            ("username", "full_name", "phone", "role", "area_code")}
    errors: dict[str, str | AppError] = {}
    if request.method == "POST":
        data = {**form, "password": request.form.get("password", ""),
                "phone": form["phone"] or None}
        try:
            loaded = UserCreateSchema().load(data)
        except ValidationError as invalid:
            errors = {field: "；".join(messages) if isinstance(messages, list) else str(messages)
                      for field, messages in invalid.messages.items()}
        else:
            try:
                user = services.create_user(
                    db.session(), actor, username=loaded["username"],
                    full_name=loaded["full_name"], password=loaded["password"],
                    role=Role(loaded["role"]), area_code=loaded["area_code"],
                    phone=loaded["phone"])
            except AppError as error:
                errors[_FIELD_OF.get(error.code, "form")] = error
            else:
                flash(f"已创建用户 {user.username}。", "success")
                return redirect(url_for("console.user", user_id=user.id))
    status = 400 if errors else 200
    return render_template("console/user_new.html", form=form, errors=errors,
                           roles=_grantable(actor), role_names=ROLE_NAMES,
                           areas=area_names(db.session(), actor.area_code)), status


_FIELD_OF = {"USERNAME_TAKEN": "username", "PASSWORD_WEAK": "password",
             "AREA_OUTSIDE_SCOPE": "area_code", "AREA_UNKNOWN": "area_code",
             "ROLE_NOT_GRANTABLE": "role"}


def _user_page(user_id: int, *, token: str | None = None, errors=None, status: int = 200):
    actor = session.current_user()
    managed = services.managed_user(db.session(), actor, user_id)
    view = readable_user(db.session(), actor, managed.id)
    collect_url = qr = None
    if token is not None:
        collect_url = collect.server_url(current_app.config["PUBLIC_URL"], token)
        qr = collect.qr_data_uri(collect.settings(
            collect_url, current_app.config["PROJECT_NAME"], managed.username))
    page = render_template("console/user.html", user=managed, area_name=view.area_name,
                           phone=shown_phone(managed.phone, actor.role, actor.area_code),
                           active_tokens=view.active_tokens, role_names=ROLE_NAMES,
                           collects=Role(managed.role) in COLLECTING_ROLES,
                           is_self=managed.id == actor.id, collect_url=collect_url, qr=qr,
                           errors=errors or {})
    return page, status


@bp.get(f"/users/{_ID}")
@session.login_required(*MANAGERS)
def user(user_id: int):
    return _user_page(user_id)


@bp.post(f"/users/{_ID}/deactivate")
@session.login_required(*MANAGERS)
def user_deactivate(user_id: int):
    user = services.deactivate_user(db.session(), session.current_user(), user_id)
    flash(f"已停用用户 {user.username}，其 ODK Collect 密钥已撤销。", "success")
    return redirect(url_for("console.user", user_id=user_id))


@bp.post(f"/users/{_ID}/password")
@session.login_required(*MANAGERS)
def user_password(user_id: int):
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return _user_page(user_id, errors={"password": AppError("PASSWORD_MISMATCH")},
                          status=400)
    try:
        user = services.reset_password(db.session(), session.current_user(), user_id, password)
    except AppError as error:
        if error.code != "PASSWORD_WEAK":
            raise
        return _user_page(user_id, errors={"password": error}, status=400)
    flash(f"已重设用户 {user.username} 的密码。", "success")
    return redirect(url_for("console.user", user_id=user_id))


@bp.post(f"/users/{_ID}/token")
@session.login_required(*MANAGERS)
def user_token(user_id: int):
    """A new Collect token, shown once on the page this POST answers (never in a URL or the
    session); the user's earlier tokens are revoked unless the form says to keep them."""
    _user, token, revoked = services.issue_collect_token(
        db.session(), session.current_user(), user_id,
        revoke_old=request.form.get("keep_old") != "1")
    if revoked:
        flash(f"已撤销旧密钥 {revoked} 个。", "info")
    return _user_page(user_id, token=token)


@bp.post(f"/users/{_ID}/token/revoke")
@session.login_required(*MANAGERS)
def user_token_revoke(user_id: int):
    revoked = services.revoke_collect_tokens(db.session(), session.current_user(), user_id)
    flash(f"已撤销 {revoked} 个 ODK Collect 密钥。", "success")
    return redirect(url_for("console.user", user_id=user_id))
