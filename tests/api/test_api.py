"""The REST API over real HTTP: auth, area scope, masking, the case actions, the OpenAPI
document (issue 6, first slice)."""

from __future__ import annotations

import pytest
import requests
from openapi_spec_validator import validate

from tests.support.cases import signature_parts
from tests.support.collect import CollectClient, form_instance
from tests.support.households import CHILD, HEAD, SPOUSE, SURVEY_FIELDS, address
from tests.support.seed import PASSWORD, VILLAGE


def api(live_server: str, username: str | None) -> requests.Session:
    session = requests.Session()
    if username:
        session.auth = (username, PASSWORD)
    session.base = f"{live_server}/api/v1"  # type: ignore[attr-defined]
    return session


@pytest.fixture
def household(live_server, seeded) -> str:
    """A household taken in through the phone's path (helper in 洪罗庙社区)."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    xml = form_instance("household", seeded.form_versions["household"],
                        {**SURVEY_FIELDS, **address(VILLAGE), "phone": "13812345678"},
                        [HEAD, SPOUSE, CHILD])
    assert client.submit(xml).status_code == 201
    county = api(live_server, "county")
    [row] = county.get(f"{county.base}/households", timeout=10).json()
    return row["id"]


def test_the_api_needs_credentials(live_server, seeded):
    response = requests.get(f"{live_server}/api/v1/households", timeout=10)

    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_REQUIRED"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_personal_data_by_role_is_one_rule(live_server, household):
    """SPEC §7: ID numbers in full for county and admin only; phones in full for those who call
    the household — its village's users and helpers — and county and admin, masked for others."""
    seen = {}
    for username in ("county", "village", "helper", "township"):
        user = api(live_server, username)
        seen[username] = user.get(f"{user.base}/households/{household}", timeout=10).json()

    masked_id = HEAD["a7_id_number"][:6] + "********" + HEAD["a7_id_number"][-4:]
    assert seen["county"]["head_id_number"] == HEAD["a7_id_number"]
    assert seen["county"]["phone"] == "13812345678"
    for username in ("village", "helper"):  # the household's village: calls it
        assert seen[username]["head_id_number"] == masked_id
        assert seen[username]["phone"] == "13812345678"
    assert seen["township"]["head_id_number"] == masked_id
    assert seen["township"]["phone"] == "138****5678"


def test_users_see_only_their_area(live_server, household):
    other = api(live_server, "helper_other")

    assert other.get(f"{other.base}/households", timeout=10).json() == []
    assert other.get(f"{other.base}/households/{household}", timeout=10).status_code == 404


def test_a_case_is_opened_and_acted_on_through_the_api(live_server, household):
    helper = api(live_server, "helper")
    county = api(live_server, "county")
    opened = helper.post(f"{helper.base}/cases", json={
        "procedure": "identification", "household_id": household, "origin": "02"}, timeout=10)
    assert opened.status_code == 201, opened.text
    case = opened.json()

    etag = opened.headers.get("ETag") or helper.get(
        f"{helper.base}/cases/{case['id']}", timeout=10).headers["ETag"]
    # 附件1 signed at the step (this household's survey carries no signature): multipart
    moved = helper.post(f"{helper.base}/cases/{case['id']}/actions",
                        data={"action": "approve", "opinion": "户主已签字申请"},
                        files=signature_parts("identification", "application"),
                        headers={"If-Match": etag}, timeout=10)
    current = {"If-Match": moved.headers["ETag"]}
    wrong_role = county.post(f"{county.base}/cases/{case['id']}/actions",
                             json={"action": "approve"}, headers=current, timeout=10)
    no_reason = helper.post(f"{helper.base}/cases/{case['id']}/actions",
                            json={"action": "return"}, headers=current, timeout=10)

    assert moved.status_code == 200 and moved.json()["step"] == "verification"
    assert wrong_role.status_code == 409
    assert wrong_role.json()["code"] == "STEP_ROLE"
    assert no_reason.json()["code"] == "REASON_REQUIRED"
    listed = helper.get(f"{helper.base}/cases", params={"status": "open"}, timeout=10)
    assert [c["id"] for c in listed.json()] == [case["id"]]
    assert "X-Pagination" in listed.headers


def test_bad_input_is_a_422_that_names_the_field(live_server, household):
    helper = api(live_server, "helper")

    response = helper.post(f"{helper.base}/cases", json={"procedure": "nonsense"}, timeout=10)

    assert response.status_code == 422
    assert "procedure" in str(response.json()) and "household_id" in str(response.json())


def test_the_openapi_document_is_valid(live_server, seeded):
    document = requests.get(f"{live_server}/api/openapi.json", timeout=10).json()

    validate(document)
    assert {"/api/v1/households", "/api/v1/cases/{case_id}/actions"} <= set(document["paths"])
