"""REST GET /api/v1/error-codes (issue 12.3): the catalogue of codes, for anyone (it holds no
personal data), each with its status, category and Chinese message template."""

from __future__ import annotations

import requests

from server.domain.catalogue import CATALOGUE


def test_the_catalogue_is_listed_without_logging_in(live_server):
    response = requests.get(f"{live_server}/api/v1/error-codes", timeout=10)

    assert response.status_code == 200
    listed = {entry["code"]: entry for entry in response.json()}
    assert list(listed) == list(CATALOGUE)
    step_role = listed["STEP_ROLE"]
    assert (step_role["status"], step_role["category"]) == (409, "rule")
    assert step_role["placeholders"] == ["step_name"] and step_role["message"]
    assert listed["ID_CHECKSUM"]["category"] == "problem"
    assert listed["NUMBER_SCIENTIFIC"]["category"] == "reason"


def test_the_catalogue_filters_by_category(live_server):
    url = f"{live_server}/api/v1/error-codes"

    rules = requests.get(url, params={"category": "rule"}, timeout=10).json()
    unknown = requests.get(url, params={"category": "nonsense"}, timeout=10)

    assert {"NOTICE_NOT_FINISHED", "SIGNATURE_MISSING", "CASE_CLOSED"} <= {
        entry["code"] for entry in rules}
    assert {entry["category"] for entry in rules} == {"rule"}
    assert unknown.status_code == 422


def test_a_refusal_carries_a_code_the_catalogue_lists(live_server):
    """A refusal's code and the catalogue's entry agree: the status and the values named."""
    refused = requests.get(f"{live_server}/api/v1/cases", timeout=10)
    entry = {e["code"]: e for e in requests.get(f"{live_server}/api/v1/error-codes",
                                                timeout=10).json()}[refused.json()["code"]]

    assert refused.status_code == entry["status"] == 401
