"""The web console: server-rendered pages (Jinja2) for village, township and county staff.

One blueprint at ``/console`` (``bp``), one module per area of work (``account``: login, logout,
my password; ``workbench``: 工作台; ``users``: 用户; ``areas``: 区划; …); views call services
only. ``init_app`` sets up what the pages need and the rest of the server does not: the signed
session cookie
(``session``), CSRF tokens on every POST of the console (Flask-WTF, checked by this blueprint
alone: the REST API and OpenRosa authenticate every request and take no cookies), the security
headers of every console response, and the HTML rendering of catalogue errors. See
docs/console.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape

from server.clock import CHINA
from server.config import instance_secret_key
from server.domain.logins import MIN_PASSWORD_LENGTH
from server.domain.roles import ROLE_NAMES
from server.errors import AppError, limit_body, register_renderer

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")
csrf = CSRFProtect()

# No inline script or style anywhere: scripts, styles and fonts come from this server alone.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # data: for the Collect settings QR code, made on the page
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
))


# The navigation: (view, label, the views it stands for). An entry is shown to the roles its
# view admits (``session.login_required``), so the menu and the access check cannot disagree.
NAVIGATION = (
    ("console.workbench", "工作台", "console.workbench"),
    ("console.cases", "案件", "console.case"),
    ("console.households", "农户", "console.household"),
    ("console.review", "审核", "console.review"),
    ("console.conflicts", "冲突", "console.conflict"),
    ("console.duplicates", "疑似重复", "console.duplicate"),
    ("console.notices", "公示", "console.notices"),
    ("console.dashboard", "统计看板", "console.dashboard"),
    ("console.warnings", "部门预警", "console.warning"),
    ("console.users", "用户", "console.user"),
    ("console.areas", "区划", "console.area"),
    ("console.jobs", "后台任务", "console.job"),
)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    current: bool


def navigation() -> list[NavItem]:
    user = g.get("console_user")
    if user is None:
        return []
    items = []
    for endpoint, label, prefix in NAVIGATION:
        roles = getattr(current_app.view_functions[endpoint], "roles", frozenset())
        if not roles or user.role in roles:
            items.append(NavItem(endpoint, label, (request.endpoint or "").startswith(prefix)))
    return items


def csrf_field() -> Markup:
    """The hidden field with the session's CSRF token, for every POST form."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        escape(generate_csrf()))


@bp.context_processor
def _layout() -> dict:
    return {"nav": navigation(), "role_names": ROLE_NAMES, "csrf_field": csrf_field,
            "min_password_length": MIN_PASSWORD_LENGTH}


@bp.app_template_filter("local_time")
def local_time(moment: datetime | None) -> str:
    """An aware time as the users read it: Asia/Shanghai, to the minute."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else "—"


@bp.before_request
def _check_csrf():
    """Every POST (PUT, PATCH, DELETE) of the console carries the session's CSRF token: in the
    form's ``csrf_token`` field, or in the ``X-CSRFToken`` header (htmx). The body's size is
    limited first (``errors.limit_body``: the check reads the form, files and all)."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        limit_body(current_app.config["MAX_SUBMISSION_BYTES"])
    csrf.protect()


@bp.after_request
def _security_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    if request.endpoint != "console.static":
        # Pages show personal data and one-time secrets: never kept by a browser or a proxy.
        headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def _csrf_refused(_error):
    return render_error(AppError("CSRF_INVALID"))


def render_error(error: AppError):
    """A catalogue error as a console page: its Chinese message, its HTTP status, its code
    (``data-error-code``, for scripts and tests)."""
    response = make_response(render_template("console/error.html", error=error), error.status)
    if "retry_after" in error.params:
        response.headers["Retry-After"] = str(error.params["retry_after"])
    return response


def init_app(app: Flask) -> None:
    config = app.config
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    # The session cookie is the console's alone (its path), unreadable to scripts, sent on
    # same-site navigations only, over https only unless configured off for plain-http
    # development; it expires, and the server refuses it, after the idle time (the signature's
    # age is checked on every request, and every request renews it).
    config["SESSION_COOKIE_NAME"] = "fangpin_console"
    config["SESSION_COOKIE_PATH"] = bp.url_prefix
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_REFRESH_EACH_REQUEST"] = True
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=float(config["CONSOLE_IDLE_MINUTES"]))
    app.session_interface = CookieSessions()
    # CSRF: checked by this blueprint only (``_check_csrf``), valid while the session lives.
    config["WTF_CSRF_CHECK_DEFAULT"] = False
    config["WTF_CSRF_TIME_LIMIT"] = None
    csrf.init_app(app)
    register_renderer("console", render_error)
    app.register_blueprint(bp)

    @app.get("/")
    def root():
        return redirect(url_for("console.workbench"))


# After the CSRF check: who is logged in (``g.console_user``). Then the views.
from server.console.session import CookieSessions, load_user, require_password_change  # noqa: E402

bp.before_request(load_user)
bp.before_request(require_password_change)
from server.console import (  # noqa: E402, F401
    account,
    areas,
    cases,
    conflicts,
    dashboard,
    exports,
    households,
    jobs,
    review,
    shown,
    users,
    warnings,
    workbench,
)
