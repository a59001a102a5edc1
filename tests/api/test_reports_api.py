"""REST /reports/counts: the dashboard's counts for programs (SPEC §7 "counts by area, type,
risk and step; the age of each case in its step"), read by county, admin and township users
inside their area."""

from __future__ import annotations

import pytest

from tests.support.households import HEAD, SPOUSE
from tests.support.rest import Api, household_of, post_household
from tests.support.seed import OTHER_TOWNSHIP, TOWNSHIP, VILLAGE


def test_the_county_reads_its_counts_with_labels_and_area_names(live_server, seeded):
    post_household(live_server, seeded, [HEAD, SPOUSE])
    county = Api(live_server, "county")
    opened = county.post("/cases", {"procedure": "identification",
                                    "household_id": household_of(live_server,
                                                                 HEAD["a7_id_number"])})
    assert opened.status_code == 201, opened.text

    answer = county.get("/reports/counts")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["area_code"] == VILLAGE[:6]
    assert body["monitored"] == 0 and body["open_cases"] == 1
    application = next(s for s in body["by_step"] if s["step"] == "application")
    assert application["open"] == 1 and application["by_age"] == {
        "0–5": 1, "6–10": 0, "11–20": 0, "20+": 0}
    assert application["step_name"] and application["procedure_name"]
    assert [(a["area_code"], a["name"], a["open_cases"]) for a in body["by_area"]] == [
        (TOWNSHIP, "洪市镇", 1)]
    assert [r["code"] for r in body["by_risk"]] == [str(n) for n in range(1, 15)]
    assert len(body["per_month"]) == 12


@pytest.mark.parametrize(("username", "area", "status", "code"), [
    ("village", None, 403, "FORBIDDEN_ROLE"),
    ("helper", None, 403, "FORBIDDEN_ROLE"),
    ("township", OTHER_TOWNSHIP, 404, "NOT_FOUND"),
    ("county", "12", 422, None),
])
def test_other_roles_and_areas_are_refused(live_server, seeded, username, area, status, code):
    answer = Api(live_server, username).get("/reports/counts",
                                            **({"area_code": area} if area else {}))

    assert answer.status_code == status
    if code:
        assert answer.json()["code"] == code


def test_a_township_counts_its_own_villages(live_server, seeded):
    answer = Api(live_server, "township").get("/reports/counts", area_code=TOWNSHIP)

    assert answer.status_code == 200
    assert answer.json()["area_code"] == TOWNSHIP
