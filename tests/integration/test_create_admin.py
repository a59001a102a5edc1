"""``fangpin create-admin`` (issue 15, point 7): the first admin of a new server, the password
from a hidden prompt (twice) or from standard input, never from the command line; the password
policy applies; the account is audited; an existing name is refused. And ``fangpin demo``
refuses the database afterwards (it holds an account a person made)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from server.auth import check_password
from server.cli import main
from server.config import PROJECT_ROOT
from server.db import make_engine


@pytest.fixture
def county_db(tmp_path) -> dict[str, str]:
    """A migrated SQLite database with 衡阳县's areas, as a new server has it."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fangpin.sqlite3'}",
           "MEDIA_STORE": str(tmp_path / "media"), "FANGPIN_INSTANCE": str(tmp_path)}
    _fangpin(env, "migrate")
    _fangpin(env, "import-areas", "server/data/areas-4304.csv", "--under", "430421")
    return env


def _fangpin(env: dict[str, str], *args: str, stdin: str = "",
             check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=PROJECT_ROOT,
                          env={**os.environ, **env}, input=stdin, capture_output=True,
                          text=True, timeout=300, check=check)


def _users(env: dict[str, str]) -> list[tuple]:
    engine = make_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT username, role, area_code, must_change_password, password_hash "
                "FROM users ORDER BY id")).all()
    finally:
        engine.dispose()


def _audit(env: dict[str, str], action: str) -> list[tuple]:
    engine = make_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT object_id, user_id, details FROM audit_log WHERE action = :action"),
                {"action": action}).all()
    finally:
        engine.dispose()


def test_the_first_admin_from_a_hidden_prompt(county_db, monkeypatch):
    """The password is asked twice without echo (a mismatch asks again); a weak one is
    refused with PASSWORD_WEAK and nothing is made; the admin is audited and need not change
    a password they chose themselves."""
    for name, value in county_db.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    args = ["create-admin", "--username", "chief", "--full-name", "县管理员"]

    weak = runner.invoke(main, args, input="1234567890\n1234567890\n")
    made = runner.invoke(main, args, input="first-try-pass\nother-pass-99\n"
                                            "a-strong-pass-1\na-strong-pass-1\n")
    again = runner.invoke(main, args, input="a-strong-pass-2\na-strong-pass-2\n")

    assert weak.exit_code == 1 and "PASSWORD_WEAK" in weak.output
    assert made.exit_code == 0, made.output
    assert "a-strong-pass-1" not in made.output  # hidden
    assert again.exit_code == 1 and "USERNAME_TAKEN" in again.output
    [(username, role, area, must_change, password_hash)] = _users(county_db)
    assert (username, role, area, bool(must_change)) == ("chief", "admin", "430421", False)
    assert check_password(type("U", (), {"password_hash": password_hash})(), "a-strong-pass-1")
    [(_object_id, by, details)] = _audit(county_db, "user.created")
    assert by is None and '"create-admin"' in details


def test_the_password_from_standard_input_and_the_demo_refuses_the_database(county_db):
    """--password-stdin reads one line (for scripts); the password never is an argument.
    Issue 15 (7): ``fangpin demo`` then refuses the database (DEMO_FOREIGN_DATA, nonzero exit)
    and adds no demo user."""
    made = _fangpin(county_db, "create-admin", "--username", "ops", "--full-name", "运维",
                    "--area", "430421", "--password-stdin", stdin="from-stdin-pass-7\n")
    unknown = _fangpin(county_db, "create-admin", "--username", "ops2", "--full-name", "运维",
                       "--area", "430421999", "--password-stdin",
                       stdin="from-stdin-pass-7\n", check=False)
    demo = _fangpin(county_db, "demo", check=False)

    assert "已创建管理员 ops" in made.stdout
    assert unknown.returncode == 1 and "AREA_UNKNOWN" in unknown.stderr
    assert demo.returncode != 0 and "DEMO_FOREIGN_DATA" in demo.stderr
    assert [row[0] for row in _users(county_db)] == ["ops"]
