"""Exports as background jobs (issue 14): POST /api/v1/exports/<dataset>/jobs queues the same
export (refused before anything is queued when it would be), the job's file is the export
(XLSX read back), audited as an export; the console's 后台导出 posts the list's form by htmx
and lands on 后台任务. On both databases, JOBS=thread."""

from __future__ import annotations

import io
import time

import openpyxl
import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.jobs.models import Job
from tests.support.console import Console, csrf_token
from tests.support.households import HEAD, SPOUSE
from tests.support.rest import Api, post_household


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SESSION_COOKIE_SECURE": False}  # the console over plain http


def _done(api: Api, job_id: int) -> dict:
    deadline = time.monotonic() + 60
    while (job := api.get(f"/jobs/{job_id}").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job


def test_a_background_export_is_the_export_and_is_audited_as_one(live_server, seeded, db):
    post_household(live_server, seeded, [HEAD, SPOUSE])
    county = Api(live_server, "county")

    queued = county.http.post(f"{county.base}/exports/members/jobs",
                              params={"format": "xlsx", "labels": "1"}, timeout=60)
    job = _done(county, queued.json()["id"])
    file = county.get(f"/jobs/{job['id']}/file")

    assert queued.status_code == 202 and queued.json()["state"] in ("queued", "running", "done")
    assert (job["state"], job["done"], job["total"]) == ("done", 2, 2)
    assert job["result_name"].endswith(".xlsx") and "家庭成员" in job["result_name"]
    book = openpyxl.load_workbook(io.BytesIO(file.content))
    assert book.sheetnames[0] == "导出说明"
    data = book[book.sheetnames[1]]
    names = {row[0].value for row in data.iter_rows(min_row=2)} | {
        cell.value for row in data.iter_rows(min_row=2) for cell in row}
    assert HEAD["a5_name"] in names and SPOUSE["a5_name"] in names
    db.commit()
    exported = db.scalars(select(AuditEntry).where(AuditEntry.action == "export.created")).all()
    assert [(e.user_id is not None, e.details["rows"], e.details["complete"])
            for e in exported] == [(True, 2, True)]


@pytest.mark.parametrize(("username", "dataset", "params", "code"), [
    ("village", "members", {}, "FORBIDDEN_ROLE"),
    ("township", "members", {"full": "1"}, "EXPORT_FULL_FORBIDDEN"),
    ("county", "nothing", {}, "EXPORT_DATASET_UNKNOWN"),
    ("township", "media", {}, "FORBIDDEN_ROLE"),
])
def test_a_refused_export_queues_nothing(live_server, seeded, db, username, dataset, params,
                                         code):
    api = Api(live_server, username)

    answer = api.http.post(f"{api.base}/exports/{dataset}/jobs", params=params, timeout=60)

    assert answer.json()["code"] == code
    assert db.scalar(select(func.count()).select_from(Job)) == 0


def test_the_consoles_background_export_lands_on_the_jobs_page(live_server, seeded):
    post_household(live_server, seeded, [HEAD, SPOUSE])
    console = Console(live_server)
    console.login("county")
    token = csrf_token(console.get("/households").text)

    answer = console.http.post(f"{console.base}/exports/households/jobs",
                               data={"format": "csv", "profile": "national", "labels": "1"},
                               headers={"X-CSRFToken": token, "HX-Request": "true"},
                               timeout=60, allow_redirects=False)
    refused = console.http.post(f"{console.base}/exports/households/jobs",
                                data={"format": "csv"}, headers={"HX-Request": "true"},
                                timeout=60, allow_redirects=False)
    jobs = console.get("/jobs").text
    deadline = time.monotonic() + 60
    while 'data-state="done"' not in (finished := console.get("/jobs").text):
        assert time.monotonic() < deadline and 'data-state="failed"' not in finished
        time.sleep(0.1)

    assert (answer.status_code, answer.headers["HX-Redirect"]) == (204, "/console/jobs")
    assert refused.status_code == 400  # no CSRF token: nothing queued
    assert jobs.count("data-job-id=") == 1 and "导出农户" in jobs
