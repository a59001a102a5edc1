"""The console's session, CSRF and headers (issue 13), over plain HTTP without a browser."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from tests.support.console import Console, csrf_token
from tests.support.seed import PASSWORD


def test_a_form_posted_without_its_csrf_token_is_refused(console, db):
    """Issue 13: CSRF on every form — the login itself, and a logged-in user's POST, are
    refused (400 CSRF_INVALID) without the session's token, and nothing is written."""
    refused_login = console.post("/login", {"username": "county", "password": PASSWORD},
                                 token=False)
    assert console.login("county").status_code == 302

    forged = console.post("/users/new", {"username": "intruder", "full_name": "x",
                                         "role": "helper", "area_code": "430421107003",
                                         "password": "a-long-password-1"}, token=False)
    wrong = console.post("/users/new", {"username": "intruder", "csrf_token": "forged"},
                         token=False)

    assert (refused_login.status_code, forged.status_code, wrong.status_code) == (400, 400, 400)
    assert 'data-error-code="CSRF_INVALID"' in forged.text
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "user.created")) is None


def test_console_responses_carry_the_security_headers_and_a_strict_session_cookie(console):
    """Issue 13: CSP without inline script, no framing, a same-origin referrer; the session
    cookie is HttpOnly, SameSite=Lax and the console's alone."""
    page = console.get("/login")
    logged_in = console.login("county")

    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"
    cookie = logged_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # these tests run over plain http (SESSION_COOKIE_SECURE=0)


@pytest.mark.parametrize("console_config", [{"SESSION_COOKIE_SECURE": True}])
def test_the_session_cookie_is_https_only_by_default(console, console_config):
    """Issue 13: production's default sends the session cookie over https only."""
    assert "; Secure" in console.login("county").headers["Set-Cookie"]


def test_the_pages_load_no_script_or_style_from_elsewhere(console):
    """Issue 13: no CDN and no inline script: every script and stylesheet is a file of this
    server (vendored htmx), and the vendored files are served with their licences."""
    console.login("county")
    html = console.get("/").text

    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert 'src="/console/static/vendor/htmx-2.0.11/htmx.min.js"' in html
    for path in ("vendor/htmx-2.0.11/htmx.min.js", "vendor/htmx-2.0.11/LICENSE",
                 "vendor/echarts-6.1.0/echarts.min.js", "vendor/echarts-6.1.0/LICENSE",
                 "vendor/echarts-6.1.0/NOTICE", "console.css"):
        assert console.get(f"/static/{path}").status_code == 200, path


@pytest.mark.parametrize("console_config", [{"LOGIN_FAILURES_PER_ACCOUNT": 3}])
def test_failed_console_logins_lock_the_account_with_retry_after(console, live_server, db,
                                                                  console_config):
    """Issue 13: after 3 failed logins (the configured limit) the account is locked: 429 with
    Retry-After, even with the right password; the lock is in the audit log; another account
    from the same address still logs in."""
    failures = [console.login("county", "wrong password").status_code for _ in range(3)]

    locked = console.login("county")
    other = Console(live_server).login("township")

    assert failures == [401, 401, 401]
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert other.status_code == 302
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "login.locked"))
    assert (entry.object_type, entry.object_id) == ("account", "county")


@pytest.mark.parametrize("console_config", [{"LOGIN_FAILURES_PER_ADDRESS": 4}])
def test_failed_logins_from_one_address_lock_the_address(console, console_config):
    """Issue 13: guessing across accounts from one address is limited per address."""
    statuses = [console.login(name, "wrong password").status_code
                for name in ("a1", "a2", "a3", "a4", "county")]

    assert statuses == [401, 401, 401, 401, 429]


def test_a_new_password_ends_the_other_sessions(live_server, console, db):
    """Issue 13 修改密码: old + new twice; the new password works, the old does not, and the
    user's session in another browser ends (the change is audited)."""
    other = Console(live_server)
    other.login("village")
    console.login("village")

    mismatch = console.post("/password", {"old_password": PASSWORD,
                                          "new_password": "new-password-123",
                                          "new_password_again": "new-password-124"})
    short = console.post("/password", {"old_password": PASSWORD, "new_password": "short",
                                       "new_password_again": "short"})
    wrong_old = console.post("/password", {"old_password": "not it",
                                           "new_password": "new-password-123",
                                           "new_password_again": "new-password-123"})
    changed = console.post("/password", {"old_password": PASSWORD,
                                         "new_password": "new-password-123",
                                         "new_password_again": "new-password-123"})

    assert [r.status_code for r in (mismatch, short, wrong_old)] == [400, 400, 400]
    assert 'data-error-code="PASSWORD_MISMATCH"' in mismatch.text
    assert 'data-error-code="PASSWORD_WEAK"' in short.text
    assert 'data-error-code="PASSWORD_OLD_WRONG"' in wrong_old.text
    assert changed.status_code == 302
    assert console.get("/").url.endswith("/console/")  # this session goes on
    assert "/console/login" in other.get("/").url  # the other one ended
    assert Console(live_server).login("village").status_code == 401
    assert Console(live_server).login("village", "new-password-123").status_code == 302
    assert db.scalar(select(AuditEntry.object_id).where(
        AuditEntry.action == "user.password_changed")) is not None


def test_an_account_made_or_reset_by_a_manager_must_choose_its_password_first(
        live_server, console, db):
    """Issue 15 (7): a user the county created in the console is sent to 修改密码 from every
    page until they have chosen their own password; the same after the county resets it."""
    console.login("county")
    made = console.post("/users/new", {"username": "newcomer", "full_name": "新来的",
                                       "role": "village", "area_code": "430421107003",
                                       "password": "given-by-county-1"})
    assert made.status_code == 302
    newcomer = Console(live_server)
    newcomer.login("newcomer", "given-by-county-1")

    pages = [newcomer.get(path) for path in ("/", "/cases", "/households", "/password")]
    changed = newcomer.post("/password", {"old_password": "given-by-county-1",
                                          "new_password": "chosen-by-me-22",
                                          "new_password_again": "chosen-by-me-22"})
    after = newcomer.get("/cases")
    user_page = made.headers["Location"]
    reset = console.post(user_page.removeprefix("/console") + "/password",
                         {"password": "reset-by-county-3", "password_again": "reset-by-county-3"})
    again = Console(live_server)
    again.login("newcomer", "reset-by-county-3")

    assert all(page.url.endswith("/console/password") for page in pages)
    assert 'data-error-code="PASSWORD_CHANGE_REQUIRED"' in pages[-1].text
    assert changed.status_code == 302 and after.url.endswith("/console/cases")
    assert after.status_code == 200
    assert reset.status_code == 302
    assert again.get("/cases").url.endswith("/console/password")


def test_the_logout_ends_the_session(console):
    console.login("county")
    token = csrf_token(console.get("/").text)

    console.post("/logout", {"csrf_token": token}, token=False)

    assert "/console/login" in console.get("/").url
