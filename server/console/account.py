"""登录、退出、修改密码: the console's own account pages."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from server import db
from server.accounts import services
from server.accounts.login import password_login
from server.console import bp, render_error, session
from server.errors import AppError


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.console_user is not None and request.method == "GET":
        return redirect(session.safe_next(request.args.get("next")))
    if request.method == "GET":
        return render_template("console/login.html", username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        if not username or not password:
            raise AppError("AUTH_REQUIRED")
        user = password_login(username, password)
    except AppError as error:
        if error.status not in (401, 429):
            raise
        page = render_template("console/login.html", username=username, error=error)
        return page, error.status, _retry_after(error)
    session.start(user)
    return redirect(session.safe_next(request.args.get("next")))


def _retry_after(error: AppError) -> dict[str, str]:
    return {"Retry-After": str(error.params["retry_after"])} if "retry_after" in error.params \
        else {}


@bp.post("/logout")
def logout():
    session.end()
    flash("您已退出登录。", "info")
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
@session.login_required()
def password():
    """My password: the old one (checked through the login limiter) and the new one twice."""
    if request.method == "GET":
        return render_template("console/password.html")
    user = session.current_user()
    old = request.form.get("old_password", "")
    new = request.form.get("new_password", "")
    errors: dict[str, AppError] = {}
    if new != request.form.get("new_password_again", ""):
        errors["new_password_again"] = AppError("PASSWORD_MISMATCH")
    else:
        try:
            password_login(user.username, old)
        except AppError as error:
            if error.code == "LOGIN_THROTTLED":
                return render_error(error)
            if error.code != "AUTH_INVALID":
                raise
            errors["old_password"] = AppError("PASSWORD_OLD_WRONG")
    if not errors:
        try:
            account = services.change_password(db.session(), user, new)
        except AppError as error:
            if error.code != "PASSWORD_WEAK":
                raise
            errors["new_password"] = error
        else:
            session.renew(account)
            flash("密码已修改。其他浏览器上的登录已失效。", "success")
            return redirect(url_for("console.workbench"))
    return render_template("console/password.html", errors=errors), 400
