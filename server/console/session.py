"""Who is logged in to the console: Flask's signed session cookie holds the user's id and a
fingerprint of their password hash, nothing else of theirs.

The cookie is signed, not encrypted, and lives ``CONSOLE_IDLE_MINUTES`` after the last request
(``server.console.init_app``). Each request loads the user again: a deactivated user, or one
whose password has changed (the fingerprint differs), is logged out at their next request, on
every browser they used.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from server import db
from server.accounts.models import User
from server.auth import Principal, check_role


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer made once for the app's keys.

    Flask makes a new serializer on every request, also for one that carries no console cookie
    (every phone's and REST client's): about 1 % of answering a submission. A serializer holds
    only its keys and settings, so one is shared by all requests while the keys stay the same.
    A session left empty, unchanged and unread is not saved: Flask's own save would do nothing
    for it either, after reading seven settings.
    """

    _made: tuple[tuple, URLSafeTimedSerializer | None] = ((), None)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made_for, serializer = self._made
        if made_for != keys:
            serializer = super().get_signing_serializer(app)
            self._made = (keys, serializer)  # one assignment: threads see either pair whole
        return serializer

    def save_session(self, app: Flask, session, response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # no cookie to set or delete, nothing read to vary on (a phone's request)
        super().save_session(app, session, response)


def _fingerprint(password_hash: str) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def start(user: Principal) -> None:
    """Log ``user`` in: a new session (nothing of the one before it is kept)."""
    account = db.session().get(User, user.id)
    session.clear()
    session.permanent = True  # expires with the idle time (PERMANENT_SESSION_LIFETIME)
    session["uid"] = account.id
    session["pw"] = _fingerprint(account.password_hash)


def renew(account: User) -> None:
    """Keep this session after the user changed their own password (others end)."""
    session["pw"] = _fingerprint(account.password_hash)


def end() -> None:
    session.clear()


def load_user() -> None:
    """Before each console request: ``g.console_user`` (a Principal) and ``g.console_account``
    (the User, for names) of a valid session, else None."""
    g.console_user = g.console_account = None
    if request.endpoint == "console.static":
        return  # a stylesheet or a script needs no user (nor a database query)
    uid = session.get("uid")
    if uid is None:
        return
    account = db.session().get(User, uid)
    if account is None or not account.active \
            or not hmac.compare_digest(session.get("pw", ""), _fingerprint(account.password_hash)):
        session.clear()
        return
    g.console_user = Principal.of(account)
    g.console_account = account


# What a user whose password an admin set may still open: the page to change it, and the way out.
_BEFORE_PASSWORD_CHANGE = frozenset({"console.password", "console.logout", "console.login",
                                     "console.static"})


def require_password_change():
    """After ``load_user``: a user whose password someone else set (``must_change_password``)
    is sent to 修改密码 from every other page until they have chosen their own."""
    user = g.console_user
    if user is not None and user.must_change_password \
            and request.endpoint not in _BEFORE_PASSWORD_CHANGE:
        return redirect(url_for("console.password"))
    return None


def current_user() -> Principal:
    return g.console_user


def login_required(*roles):
    """A view for logged-in users (of one of ``roles``, if given: else 403 FORBIDDEN_ROLE);
    anyone else is sent to the login page, and back here after it."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = g.get("console_user")
            if user is None:
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if roles:
                check_role(user, roles)
            return view(*args, **kwargs)
        wrapper.roles = frozenset(roles)
        return wrapper
    return decorate


def safe_next(target: str | None) -> str:
    """Where to go after the login: a console path of this server, never another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/console/") \
                and "\\" not in target:
            return target
    return url_for("console.workbench")
