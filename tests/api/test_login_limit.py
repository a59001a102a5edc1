"""One limiter of failed logins for every password login (issue 13): HTTP Basic on the REST API
and on OpenRosa, and the console's form, counted per account name and per client address in
the database (so every worker process sees the same count), on both databases."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from server.accounts.models import LoginFailure
from server.audit.models import AuditEntry
from tests.support.console import Console
from tests.support.rest import Api
from tests.support.seed import PASSWORD


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "LOGIN_FAILURES_PER_ACCOUNT": 3, "LOGIN_FAILURES_PER_ADDRESS": 6,
            "SESSION_COOKIE_SECURE": False}


def test_failed_basic_logins_lock_the_account_for_the_api_and_the_console(live_server, db):
    """Issue 13: three wrong passwords over HTTP Basic lock the account: the REST API answers
    429 LOGIN_THROTTLED with Retry-After even to the right password, and so do OpenRosa and
    the console's login form; the lock is audited once."""
    wrong = Api(live_server, "county", "wrong password")
    failures = [wrong.get("/users").status_code for _ in range(3)]

    locked = Api(live_server, "county").get("/users")
    openrosa = requests.get(f"{live_server}/formList", auth=("county", PASSWORD), timeout=30)
    console = Console(live_server).login("county")

    assert failures == [401, 401, 401]
    assert locked.status_code == 429 and locked.json()["code"] == "LOGIN_THROTTLED"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert (openrosa.status_code, openrosa.headers["X-Error-Code"]) == (429, "LOGIN_THROTTLED")
    assert "Retry-After" in openrosa.headers
    assert console.status_code == 429 and "Retry-After" in console.headers
    locks = db.scalars(select(AuditEntry).where(AuditEntry.action == "login.locked")).all()
    assert [(e.object_type, e.object_id) for e in locks] == [("account", "county")]


def test_only_failed_logins_count(live_server, db):
    """Issue 13: good logins do not count toward the limit; other accounts are not locked by
    one account's failures (below the address's limit)."""
    good = [Api(live_server, "county").get("/users").status_code for _ in range(5)]
    wrong = [Api(live_server, "township", "nope").get("/areas").status_code for _ in range(3)]

    still = Api(live_server, "county").get("/users").status_code

    assert good == [200] * 5 and wrong == [401] * 3 and still == 200
    assert db.scalar(select(func.count()).select_from(LoginFailure)) == 6  # 3 × (account, address)


def test_failures_across_accounts_lock_the_address(live_server, db):
    """Issue 13: one password tried on many accounts from one address: the address's limit.
    Issue 15 (7): the address's lock is audited, with the account name that locked it."""
    statuses = [Api(live_server, f"user{n}", "guess").get("/users").status_code
                for n in range(7)]

    assert statuses == [401] * 6 + [429]
    locks = db.scalars(select(AuditEntry).where(AuditEntry.action == "login.locked")).all()
    assert [(e.object_type, e.object_id, e.details["username"]) for e in locks] == [
        ("address", "127.0.0.1", "user5")]


def test_wrong_old_passwords_count_as_failed_logins(live_server, db):
    """Issue 15 (7): the old password of POST /me/password is checked through the limiter:
    guessing it locks the account like any failed login (429 LOGIN_THROTTLED)."""
    county = Api(live_server, "county")

    answers = [county.post("/me/password", {"old_password": f"guess {n}",
                                            "new_password": "a-better-pass-1"})
               for n in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert answers[-1].json()["code"] == "LOGIN_THROTTLED" and "Retry-After" in answers[-1].headers
