"""The one password login of every edge — the console's form, HTTP Basic on the REST API and on
OpenRosa — behind one limiter of failed logins per account name and per client address.

The rule is ``server.domain.logins``; the failures are rows of ``login_failures`` (every worker
process sees the same ones; no other service is needed). A failure is written in a unit of work
of its own, committed at once, since the request's own unit rolls back with its error answer.
While a key is locked the login is refused with 429 ``LOGIN_THROTTLED`` (its ``retry_after``
becomes the ``Retry-After`` header) before the password is checked, even a right one: otherwise
the lock would still tell a guesser when they had guessed right. The lock of a key is written in
the audit log when the failure that causes it is recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import Authorization

from server import db
from server.accounts.models import LoginFailure
from server.audit.services import record
from server.auth import Principal, user_by_password
from server.domain.logins import account_key, address_key, locks_now, seconds_locked
from server.errors import AppError


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_address: int
    window: timedelta

    @classmethod
    def of(cls, config) -> LoginLimits:
        return cls(int(config["LOGIN_FAILURES_PER_ACCOUNT"]),
                   int(config["LOGIN_FAILURES_PER_ADDRESS"]),
                   timedelta(minutes=float(config["LOGIN_FAILURE_WINDOW_MINUTES"])))

    def limits(self, username: str, address: str) -> dict[str, int]:
        """The limiter's keys of one attempt and the limit of each."""
        return {account_key(username): self.per_account, address_key(address): self.per_address}


# Every password login reads this (each OpenRosa request with HTTP Basic): built once, run on
# the connection (no ORM statement to compile per request).
_RECENT_FAILURES = select(LoginFailure.key, LoginFailure.at).where(
    LoginFailure.key.in_(bindparam("keys", expanding=True)), LoginFailure.at > bindparam("since"))


def seconds_until_allowed(session: Session, keys: dict[str, int], window: timedelta,
                          now: datetime) -> int | None:
    """Seconds until an attempt under these keys may be made (None: now)."""
    rows = session.connection().execute(
        _RECENT_FAILURES, {"keys": list(keys), "since": now - window}).all()
    waits = [seconds_locked([at for key_, at in rows if key_ == key], limit, window, now)
             for key, limit in keys.items()]
    return max((wait for wait in waits if wait is not None), default=None)


def record_failure(session: Session, keys: dict[str, int], window: timedelta, now: datetime,
                   **details: object) -> list[str]:
    """Count one failed login under each key; returns the keys it locked, each audited with
    ``details`` (the attempt's account name and address). Failures that have left the window
    are deleted on the way."""
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - window))
    counts = dict(session.execute(
        select(LoginFailure.key, func.count()).where(LoginFailure.key.in_(list(keys)))
        .group_by(LoginFailure.key)).all())
    session.execute(insert(LoginFailure), [{"key": key, "at": now} for key in keys])
    locked = [key for key, limit in keys.items() if locks_now(counts.get(key, 0), limit)]
    for key in locked:
        kind, _, name = key.partition(":")
        record(session, "login.locked", "account" if kind == "user" else "address", name,
               None, failures=keys[key], window_minutes=window.total_seconds() / 60, **details)
    return locked


def client_address() -> str:
    """The client's address (behind ``TRUSTED_PROXIES`` proxies, the one they forward)."""
    return request.remote_addr or "-"


def basic_login(authorization: Authorization | None, *,
                before_password_change: bool = False) -> Principal:
    """The user of a request's HTTP Basic credentials (``request.authorization``): the one
    Basic-auth path of the REST API and the OpenRosa endpoints, limited like every password
    login. AUTH_REQUIRED without Basic credentials; 403 PASSWORD_CHANGE_REQUIRED for a user
    whose password someone else set, except where ``before_password_change`` (who am I, change
    my password). Collect's token URLs do not come here: a helper's phone keeps working."""
    if authorization is None or authorization.type != "basic":
        raise AppError("AUTH_REQUIRED")
    user = password_login(authorization.username or "", authorization.password or "")
    if user.must_change_password and not before_password_change:
        raise AppError("PASSWORD_CHANGE_REQUIRED")
    return user


def password_login(username: str, password: str) -> Principal:
    """The active user with these credentials, for the current request; 429 LOGIN_THROTTLED
    while the account name or the client address is locked, 401 AUTH_INVALID otherwise."""
    limits = LoginLimits.of(current_app.config)
    address = client_address()
    keys = limits.limits(username, address)
    now = db.utcnow()
    session = db.session()
    wait = seconds_until_allowed(session, keys, limits.window, now)
    if wait is not None:
        raise AppError("LOGIN_THROTTLED", retry_after=wait, minutes=math.ceil(wait / 60))
    user = user_by_password(session, username, password)
    if user is not None:
        return user
    # The request's unit only read; end it, so that on SQLite its lock (a POST takes the write
    # lock at BEGIN) is not held while the failure is written in a unit of its own.
    db.commit()
    with db.writing(), db.database().unit_of_work() as unit:
        record_failure(unit.session, keys, limits.window, now, username=username[:64],
                       address=address)
    raise AppError("AUTH_INVALID")
