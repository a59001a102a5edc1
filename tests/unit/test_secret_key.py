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
