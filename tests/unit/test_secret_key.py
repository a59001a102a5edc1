"""The console's secret key without configuration: made once, kept, shared by every process."""

from __future__ import annotations

import stat

from server.config import instance_secret_key, load


def test_the_secret_key_is_made_once_and_kept_owner_only(tmp_path):
    first = instance_secret_key(tmp_path / "instance")
    again = instance_secret_key(tmp_path / "instance")

    assert first == again and len(first) >= 60
    assert stat.S_IMODE((tmp_path / "instance" / "secret_key").stat().st_mode) == 0o600


def test_console_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    monkeypatch.setenv("CONSOLE_IDLE_MINUTES", "0.5")
    monkeypatch.setenv("LOGIN_FAILURES_PER_ACCOUNT", "5")

    config = load()

    assert (config["SESSION_COOKIE_SECURE"], config["CONSOLE_IDLE_MINUTES"],
            config["LOGIN_FAILURES_PER_ACCOUNT"]) == (False, 0.5, 5)


def test_a_session_cookie_is_read_under_its_key_only_though_the_serializer_is_kept():
    """``CookieSessions`` makes the signing serializer once for the app's keys, not per request:
    a cookie is still read while its key is the app's or a fallback, and refused once it is
    neither (a serializer kept for the old key would let it in)."""
    from flask import Flask, session

    from server.console.session import CookieSessions

    app = Flask(__name__)
    app.session_interface = CookieSessions()
    app.secret_key = "first-key-" * 4

    @app.get("/set")
    def put():
        session["uid"] = 7
        return ""

    @app.get("/get")
    def read():
        return str(session.get("uid"))

    client = app.test_client()
    client.get("/set")
    signed_first = client.get_cookie("session").value
    read_first = client.get("/get").text
    made_once = app.session_interface.get_signing_serializer(app) \
        is app.session_interface.get_signing_serializer(app)
    app.secret_key = "second-key-" * 4
    client.set_cookie("session", signed_first)
    read_after_change = client.get("/get").text
    app.config["SECRET_KEY_FALLBACKS"] = ["first-key-" * 4]
    client.set_cookie("session", signed_first)
    read_with_fallback = client.get("/get").text

    assert (read_first, made_once) == ("7", True)
    assert read_after_change == "None"
    assert read_with_fallback == "7"
