"""Who may talk to the OpenRosa endpoints: tokens in the URL, or Basic behind TLS."""

from __future__ import annotations

import time

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.auth import AuthCache, Principal, revoke_tokens
from server.db import autocommit_engine, make_engine
from server.domain.roles import Role
from tests.support.collect import CollectClient, parse_form_list, response_message
from tests.support.seed import PASSWORD


def test_no_credentials_get_a_basic_challenge(live_server):
    response = requests.get(f"{live_server}/formList", timeout=10)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.headers["X-Error-Code"] == "AUTH_REQUIRED"
    assert response_message(response)  # the catalogue's Chinese message, shown by Collect


def test_basic_credentials_work(live_server, seeded):
    response = CollectClient(live_server, auth=("helper", PASSWORD)).form_list()

    assert response.status_code == 200
    assert "household" in [f["formID"] for f in parse_form_list(response)]


@pytest.mark.parametrize("username,password", [("helper", "wrong"), ("nobody", PASSWORD),
                                               ("inactive", PASSWORD)])
def test_wrong_or_inactive_basic_credentials_get_401(live_server, seeded, username, password):
    response = CollectClient(live_server, auth=(username, password)).form_list()

    assert response.status_code == 401
    assert response.headers["X-Error-Code"] == "AUTH_INVALID"
    assert b"household" not in response.content


@pytest.mark.parametrize("token", ["not-a-token", "x" * 300])
def test_a_wrong_token_gets_401_without_a_challenge(live_server, seeded, token):
    """Issue 3: wrong credentials get 401, never a 500 and never data; no password prompt."""
    response = CollectClient(live_server, token).form_list()

    assert response.status_code == 401
    assert response.headers["X-Error-Code"] == "AUTH_INVALID"
    assert "WWW-Authenticate" not in response.headers
    assert b"household" not in response.content


def _revoke_helper_tokens(engine) -> None:
    with Session(engine) as session, session.begin():
        revoke_tokens(session, session.scalar(select(User).where(User.username == "helper")))


def _assert_refused(client: CollectClient) -> None:
    response = client.form_list()
    assert response.status_code == 401
    assert response.headers["X-Error-Code"] == "AUTH_INVALID"
    assert client.submit(b"<data/>").status_code == 401


def test_a_token_revoked_through_the_server_stops_working_at_once(live_server, seeded, app):
    client = CollectClient(live_server, seeded.tokens["helper"])
    assert client.form_list().status_code == 200  # the token is now in the server's cache

    _revoke_helper_tokens(app.extensions["fangpin.db"].engine)

    _assert_refused(client)


@pytest.fixture
def short_token_cache(app_config):
    app_config["AUTH_CACHE_SECONDS"] = 1


def test_a_token_revoked_elsewhere_stops_working_within_the_cache_time(
        short_token_cache, live_server, seeded, app_config):
    """Another process (a worker, the CLI) revoked it: this one forgets it after its TTL."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    assert client.form_list().status_code == 200
    engine = make_engine(app_config["DATABASE_URL"])
    _revoke_helper_tokens(engine)
    engine.dispose()
    revoked_at = time.monotonic()

    while client.form_list().status_code == 200:
        assert time.monotonic() - revoked_at < 1.5, "still accepted after the cache time"
        time.sleep(0.05)
    _assert_refused(client)


def test_the_token_cache_forgets_entries_after_their_time():
    now = [100.0]
    cache = AuthCache(10, clock=lambda: now[0])
    helper = Principal(7, "helper", Role.HELPER, "430421")
    cache.put("digest", helper)

    assert cache.get("digest") == helper
    now[0] = 109.9
    assert cache.get("digest") == helper
    now[0] = 110.0
    assert cache.get("digest") is None


def test_the_token_cache_forgets_a_user_on_demand_and_caches_nothing_at_ttl_0():
    cache = AuthCache(10)
    cache.put("a", Principal(7, "helper", Role.HELPER, "430421"))
    cache.put("b", Principal(8, "village", Role.VILLAGE, "430421"))
    cache.forget_user(7)
    assert cache.get("a") is None and cache.get("b") is not None

    off = AuthCache(0)
    off.put("a", Principal(7, "helper", Role.HELPER, "430421"))
    assert off.get("a") is None


def test_an_inactive_users_token_is_refused(live_server, seeded):
    response = CollectClient(live_server, seeded.tokens["inactive"]).form_list()

    assert response.status_code == 401


def test_a_checked_password_is_remembered_until_the_user_is_forgotten(app, seeded):
    """Argon2 runs once per TTL for good credentials; wrong ones are always checked."""
    from server.auth import forget_user, hash_password, user_by_password

    sessions = app.extensions["fangpin.db"].sessions
    with sessions() as session:
        helper = user_by_password(session, "helper", PASSWORD)
        assert helper is not None
        user = session.get(User, helper.id)
        user.password_hash = hash_password("changed-elsewhere")  # not through a service
        session.commit()

        assert user_by_password(session, "helper", PASSWORD) == helper  # remembered
        assert user_by_password(session, "helper", "changed-elsewhere") == helper  # checked
        assert user_by_password(session, "helper", "wrong") is None

        forget_user(session, helper.id)

        assert user_by_password(session, "helper", PASSWORD) is None


def test_the_phones_repeated_checks_read_statement_by_statement_with_the_cached_password(
        live_server, seeded, app, backend):
    """Issue 16: formList and the manifest only read (``db.reads_only``). On PostgreSQL their
    statements run on the autocommitting twin, with no BEGIN and COMMIT round trips; the
    password checked by the first request is not read again by the next (the credentials
    cache is shared by both engines). A REST read keeps its transaction."""
    engine = app.extensions["fangpin.db"].engine
    twin = autocommit_engine(engine)
    seen: list[tuple[str, str]] = []

    def watch(name):
        def statement(_conn, _cursor, text, *_args):
            seen.append((name, text))
        return statement

    engines = [(engine, watch("transaction"))] + ([(twin, watch("autocommit"))] if twin else [])
    client = CollectClient(live_server, auth=("helper", PASSWORD))
    version = seeded.form_versions["household"]
    manifest = client.url(f"/forms/household/versions/{version}/manifest")
    assert client.form_list().status_code == 200  # the password's first check
    for watched, listener in engines:
        sa.event.listen(watched, "before_cursor_execute", listener)
    try:
        assert client.form_list().status_code == 200
        assert client.get(manifest).status_code == 200
        phones = list(seen)
        seen.clear()
        rest = requests.get(f"{live_server}/api/v1/me", auth=("helper", PASSWORD), timeout=10)
    finally:
        for watched, listener in engines:
            sa.event.remove(watched, "before_cursor_execute", listener)

    assert rest.status_code == 200
    assert phones and not [text for _, text in phones if "FROM users" in text], phones
    expected = "autocommit" if backend == "postgresql" else "transaction"
    assert {name for name, _ in phones} == {expected}
    assert seen and {name for name, _ in seen} == {"transaction"}
