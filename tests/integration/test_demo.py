"""The README's first command: demo data on the embedded defaults, and Collect can connect."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import sqlalchemy as sa

from server import create_app
from server.accounts import collect
from server.clock import today
from server.config import PROJECT_ROOT, outward_address
from server.db import make_engine
from server.domain.pipeline import STEPS
from server.pipeline.deadlines import overdue_condition
from server.pipeline.models import Case
from tests.support.collect import CollectClient, parse_form_list
from tests.support.serving import serving


def _run_demo(instance, public_url: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "FANGPIN_INSTANCE": str(instance)}
    for name in ("DATABASE_URL", "MEDIA_STORE", "PUBLIC_URL"):
        env.pop(name, None)
    if public_url is not None:
        env["PUBLIC_URL"] = public_url
    return subprocess.run([sys.executable, "-m", "server.cli", "demo"], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=True)


def _demo(instance) -> str:
    return _run_demo(instance, "http://demo.example").stdout


# What the story leaves for the console's pages to show (issue 13), counted in one query each.
STORY_COUNTS = {
    "cases": "SELECT procedure || '/' || step || '/' || status, count(*) FROM cases GROUP BY 1",
    "submissions": "SELECT state, count(*) FROM submissions GROUP BY 1",
    "conflicts": "SELECT kind, count(*) FROM conflicts WHERE status = 'open' GROUP BY 1",
    "duplicates": "SELECT status, count(*) FROM duplicate_flags GROUP BY 1",
    "objections": "SELECT status, count(*) FROM objections GROUP BY 1",
    "warnings": "SELECT status, count(*) FROM warning_rows GROUP BY 1",
    "records": "SELECT 'evaluations', count(*) FROM assistance_evaluations UNION ALL "
               "SELECT 'measures', count(*) FROM measure_records UNION ALL "
               "SELECT 'surveys', count(*) FROM survey_versions",
}


def _story(instance) -> dict[str, dict[str, int]]:
    engine = make_engine(f"sqlite:///{instance / 'fangpin.sqlite3'}")
    try:
        with sa.orm.Session(engine) as session:
            found = {name: dict(session.execute(sa.text(sql)).all())
                     for name, sql in STORY_COUNTS.items()}
            found["overdue"] = dict(session.execute(
                sa.select(Case.procedure, sa.func.count())
                .where(overdue_condition(session, today())).group_by(Case.procedure)).all())
    finally:
        engine.dispose()
    return found


def test_demo_prints_users_and_collect_settings_and_is_repeatable(tmp_path):
    """Issue 3: the server prints its URL, the demo users and each helper's Collect settings.
    Issue 13: the demo's story gives every console page something to show — cases at every
    step of both procedures, some overdue, objections, conflicts, a likely duplicate, a
    submission to review, a warning list's tasks — and a second run adds nothing."""
    first = _demo(tmp_path)
    story = _story(tmp_path)
    second = _demo(tmp_path)

    assert "http://demo.example" in first
    for username in ("admin", "county", "township", "township2", "village", "village2",
                     "helper1", "helper2"):
        assert re.search(rf"^\s+{username}\s", first, re.M)
    urls = re.findall(r"服务器地址: (http://demo\.example/key/\S+)", first)
    assert len(urls) == 4  # the helpers and the village users collect
    assert (tmp_path / "demo" / "collect-helper1.png").exists()
    assert re.findall(r"服务器地址: (\S+)", second) == re.findall(r"服务器地址: (\S+)", first)
    assert "sqlite" in first
    for procedure, steps in STEPS.items():
        for step in steps:
            assert story["cases"].get(f"{procedure.value}/{step.value}/open"), (procedure, step)
        assert story["cases"][f"{procedure.value}/county_approval/done"] >= 3
        assert story["overdue"].get(procedure.value)
    assert story["cases"]["identification/village_review/rejected"] == 1
    assert set(story["submissions"]) == {"applied", "held", "invalid"}
    assert set(story["conflicts"]) == {"already_registered", "members_left"}
    assert story["duplicates"] == {"open": 1}
    assert story["objections"] == {"open": 1, "closed": 1}
    assert set(story["warnings"]) == {"matched", "joined", "unmatched", "invalid"}
    assert all(story["records"].values())
    assert _story(tmp_path) == story


def test_the_qr_code_scans_to_the_printed_collect_settings(tmp_path):
    """Issue 3: a QR code Collect can scan: zlib-compressed JSON, base64 (read by zbarimg)."""
    output = _demo(tmp_path)
    scanned = subprocess.run(
        ["zbarimg", "--raw", "-q", str(tmp_path / "demo" / "collect-helper1.png")],
        capture_output=True, text=True, check=True,
    ).stdout.strip()

    settings = collect.decode(scanned)
    printed = re.search(r"helper1.*?服务器地址: (\S+)", output, re.S).group(1)
    assert settings["general"]["server_url"] == printed
    assert settings["general"]["username"] == "helper1"
    assert "admin" in settings and settings["project"]["name"]


def test_a_demo_helper_can_list_forms_with_the_printed_url(tmp_path):
    output = _demo(tmp_path)
    token = re.search(r"helper1.*?/key/(\S+)", output, re.S).group(1)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fangpin.sqlite3'}",
                      "MEDIA_STORE": str(tmp_path / "media")})
    with serving(app) as url:
        response = CollectClient(url, token).form_list()

    assert response.status_code == 200
    assert sorted(f["formID"] for f in parse_form_list(response)) == [
        "declaration", "elimination", "household", "measures"]


def test_the_demo_url_is_the_outward_address_when_the_host_name_is_loopback(tmp_path):
    """README (the first command): phones must reach the printed Collect URL. Without
    PUBLIC_URL, a host name that maps to loopback (Debian's 127.0.1.1) gives way to the address
    of the interface that routes outward; with no outward route, the URL stays loopback and the
    demo warns, naming PUBLIC_URL."""
    outward = outward_address()

    result = _run_demo(tmp_path, None)

    [server] = re.findall(r"服务器地址: http://([^:/]+)", result.stdout)[:1]
    if outward is None:  # a machine without any route out
        assert server.startswith("127.") and "PUBLIC_URL" in result.stderr
    else:
        assert server == _expected_host(outward) and "PUBLIC_URL" not in result.stderr


def _expected_host(outward: str) -> str:
    import socket

    try:
        named = socket.gethostbyname(socket.gethostname())
    except OSError:
        return outward
    return outward if named.startswith("127.") else named


def test_the_demo_warns_naming_public_url_when_it_is_loopback(tmp_path):
    """README (the first command): a loopback PUBLIC_URL cannot be reached by a phone; the demo
    says so and names the setting to change."""
    loopback = _run_demo(tmp_path, "http://127.0.0.1:5000")
    reachable = _run_demo(tmp_path, "http://192.168.1.10:5000")

    assert "PUBLIC_URL" in loopback.stderr and "127.0.0.1" in loopback.stderr
    assert "PUBLIC_URL" not in reachable.stderr
