"""Who may talk to the OpenRosa endpoints: tokens in the URL, or Basic behind TLS."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.auth import revoke_tokens
from server.db import make_engine
from tests.support.collect import CollectClient, parse_form_list, response_message
from tests.support.seed import PASSWORD


def test_no_credentials_get_a_basic_challenge(live_server):
    response = requests.get(f"{live_server}/formList", timeout=10)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.headers["X-Error-Code"] == "AUTH_REQUIRED"
    assert "需要登录" in response_message(response)


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


def test_a_revoked_token_stops_working(live_server, seeded, app_config):
    client = CollectClient(live_server, seeded.tokens["helper"])
    assert client.form_list().status_code == 200
    engine = make_engine(app_config["DATABASE_URL"])
    with Session(engine) as session, session.begin():
        revoke_tokens(session, session.scalar(select(User).where(User.username == "helper")))
    engine.dispose()

    response = client.form_list()

    assert response.status_code == 401
    assert response.headers["X-Error-Code"] == "AUTH_INVALID"
    assert client.submit(b"<data/>").status_code == 401


def test_an_inactive_users_token_is_refused(live_server, seeded):
    response = CollectClient(live_server, seeded.tokens["inactive"]).form_list()

    assert response.status_code == 401
