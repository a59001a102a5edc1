"""REST /submissions (issue 6): what the phones sent, filtered and sorted; the review queue's
actions (correct, reject) for village, township and county users of the area, with their audit
entries; attachments streamed from the media store, area-checked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.clock import today
from server.domain.roles import Role
from tests.support.collect import jpeg_bytes
from tests.support.households import CHILD, HEAD, SPOUSE
from tests.support.rest import Api, add_user, post_household, total, user_id
from tests.support.seed import OTHER_TOWNSHIP, VILLAGE

BAD_SPOUSE_ID = SPOUSE["a7_id_number"][:17] + "0"  # wrong check character
BAD_SPOUSE = {**SPOUSE, "a7_id_number": BAD_SPOUSE_ID}


def masked(value: str) -> str:
    return value[:6] + "********" + value[-4:]


def submissions(user: str, live_server, **filters) -> list[dict]:
    return Api(live_server, user).items("/submissions", **filters)


@pytest.fixture
def invalid(live_server, seeded) -> int:
    """A household survey that failed the server's checks (a spouse's ID check character)."""
    post_household(live_server, seeded, [HEAD, BAD_SPOUSE])
    [row] = submissions("county", live_server, reviewable="true")
    assert row["state"] == "invalid" and row["error_count"] >= 1
    return row["id"]


def test_submissions_are_listed_inside_the_submitters_area(live_server, seeded, db):
    post_household(live_server, seeded, [HEAD, SPOUSE])

    mine = submissions("helper", live_server)
    township = submissions("township", live_server)

    assert [s["state"] for s in mine] == ["applied"] and township == mine
    assert mine[0]["submitter_username"] == "helper" and mine[0]["form_id"] == "household"
    assert mine[0]["area_code"] == VILLAGE and mine[0]["household_id"]
    assert submissions("helper_other", live_server) == []
    other = Api(live_server, "helper_other")
    assert other.get(f"/submissions/{mine[0]['id']}").status_code == 404


def test_submissions_filter_by_form_state_submitter_and_day(live_server, seeded, db):
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [{**CHILD, "a8_relation": "01"}], username="village")
    post_household(live_server, seeded, [HEAD, BAD_SPOUSE])
    day = today()

    assert len(submissions("county", live_server, form_id="household")) == 3
    assert submissions("county", live_server, form_id="measures") == []
    assert [s["state"] for s in submissions("county", live_server, state="invalid")] == [
        "invalid"]
    assert len(submissions("county", live_server, reviewable="false")) == 2
    by_village = submissions("county", live_server, submitter_id=user_id(db, "village"))
    assert [s["submitter_username"] for s in by_village] == ["village"]
    assert len(submissions("county", live_server, received_from=day.isoformat(),
                           received_to=day.isoformat())) == 3
    assert submissions("county", live_server,
                       received_to=(day - timedelta(days=1)).isoformat()) == []
    assert submissions("county", live_server,
                       received_from=(day + timedelta(days=1)).isoformat()) == []
    county = Api(live_server, "county")
    assert county.get("/submissions", received_from="1066-10-14").status_code == 422
    assert county.get("/submissions", state="lost").status_code == 422


def test_submissions_sort_newest_first_by_default_and_paginate(live_server, seeded):
    for members in ([HEAD, SPOUSE], [CHILD | {"a8_relation": "01"}], [HEAD, BAD_SPOUSE]):
        post_household(live_server, seeded, members)
    county = Api(live_server, "county")

    newest_first = [s["id"] for s in county.items("/submissions")]
    by_id = [s["id"] for s in county.items("/submissions", sort="id")]
    by_state = [s["state"] for s in county.items("/submissions", sort="-state,id")]
    page = county.get("/submissions", sort="id", page=2, page_size=2)

    assert newest_first == sorted(newest_first, reverse=True) and by_id == sorted(newest_first)
    assert by_state == ["invalid", "applied", "applied"]
    assert [s["id"] for s in page.json()] == [by_id[2]] and total(page) == 3
    assert county.get("/submissions", sort="xml").status_code == 422


def test_a_submission_shows_its_problems(live_server, seeded, invalid):
    detail = Api(live_server, "village").get(f"/submissions/{invalid}").json()

    [problem] = [p for p in detail["problems"] if p["severity"] == "error"]
    assert (problem["code"], problem["field"], problem["member"]) == ("ID_CHECKSUM", "A7", 2)
    assert detail["corrections"] == {} and detail["conflicts"] == []


def test_a_village_user_corrects_an_invalid_submission_and_it_is_taken_in(live_server, seeded,
                                                                          invalid):
    """Issue 5/6: the supervisor's correction, kept beside the XML; the ID masked by role."""
    village = Api(live_server, "village")

    response = village.post(f"/submissions/{invalid}/correct", {
        "corrections": {"members[2]/a7_id_number": SPOUSE["a7_id_number"]},
        "note": "核对身份证后更正"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "applied" and body["household_id"]
    assert body["corrections"] == {"members[2]/a7_id_number": masked(SPOUSE["a7_id_number"])}
    full = Api(live_server, "county").get(f"/submissions/{invalid}").json()
    assert full["corrections"] == {"members[2]/a7_id_number": SPOUSE["a7_id_number"]}
    [entry] = Api(live_server, "county").items("/audit", action="submission.corrected")
    assert (entry["username"], entry["object_id"]) == ("village", str(invalid))
    assert entry["details"]["before"] == {"members[2]/a7_id_number": None}
    people = Api(live_server, "county").people_with_id(SPOUSE["a7_id_number"])
    assert people[0]["household_id"] == body["household_id"]


def test_a_correction_that_is_still_wrong_leaves_it_invalid(live_server, seeded, invalid):
    township = Api(live_server, "township")

    response = township.post(f"/submissions/{invalid}/correct",
                             {"corrections": {"members[2]/a7_id_number": BAD_SPOUSE_ID}})

    assert response.json()["state"] == "invalid"
    bad_key = township.post(f"/submissions/{invalid}/correct",
                            {"corrections": {"../xml": "x"}})
    assert (bad_key.status_code, bad_key.json()["code"]) == (400, "CORRECTION_KEY_INVALID")
    assert bad_key.json()["details"]["keys"] == "../xml"


def test_a_township_user_rejects_with_a_reason(live_server, seeded, invalid):
    township = Api(live_server, "township")

    no_reason = township.post(f"/submissions/{invalid}/reject", {})
    blank = township.post(f"/submissions/{invalid}/reject", {"reason": "   "})
    rejected = township.post(f"/submissions/{invalid}/reject", {"reason": "重复录入"})
    again = township.post(f"/submissions/{invalid}/reject", {"reason": "重复录入"})

    assert no_reason.status_code == 422 and "reason" in no_reason.text
    assert (blank.status_code, blank.json()["code"]) == (400, "REASON_REQUIRED")
    assert rejected.status_code == 200
    assert (rejected.json()["state"], rejected.json()["review_note"]) == ("rejected", "重复录入")
    assert (again.status_code, again.json()["code"]) == (409, "SUBMISSION_NOT_REVIEWABLE")
    [entry] = Api(live_server, "county").items("/audit",
                                               action="submission.rejected_by_reviewer")
    assert entry["username"] == "township" and entry["details"] == {"reason": "重复录入"}


def test_helpers_and_reviewers_of_other_areas_cannot_review(live_server, seeded, db, invalid):
    add_user(db, "township_other", Role.TOWNSHIP, OTHER_TOWNSHIP)
    helper = Api(live_server, "helper")
    elsewhere = Api(live_server, "township_other")

    by_helper = helper.post(f"/submissions/{invalid}/reject", {"reason": "x"})
    by_other = elsewhere.post(f"/submissions/{invalid}/reject", {"reason": "x"})
    missing = Api(live_server, "county").post("/submissions/999999/reject", {"reason": "x"})

    assert (by_helper.status_code, by_helper.json()["code"]) == (403, "FORBIDDEN_ROLE")
    assert by_other.status_code == 404 and missing.status_code == 404
    assert submissions("county", live_server)[0]["state"] == "invalid"
    assert Api(live_server, "county").items("/audit", object_type="submission",
                                            action="submission.rejected_by_reviewer") == []


def test_an_applied_submission_is_not_reviewable(live_server, seeded):
    post_household(live_server, seeded, [HEAD, SPOUSE])
    [row] = submissions("county", live_server)

    response = Api(live_server, "village").post(f"/submissions/{row['id']}/correct",
                                                {"corrections": {"a28_wages": "1"}})

    assert (response.status_code, response.json()["code"]) == (409,
                                                               "SUBMISSION_NOT_REVIEWABLE")


def test_attachments_are_listed_and_streamed_inside_the_area(live_server, seeded):
    photo = jpeg_bytes((320, 240))
    post_household(live_server, seeded, [HEAD, SPOUSE], files={"house.jpg": photo},
                   photo_house="house.jpg", sig_applicant="sig.png")
    [row] = submissions("helper", live_server)
    village = Api(live_server, "village")

    detail = village.get(f"/submissions/{row['id']}").json()

    files = {a["name"]: a for a in detail["attachments"]}
    assert files["house.jpg"]["received"] is True and files["house.jpg"]["size"] == len(photo)
    assert files["sig.png"]["received"] is False and files["sig.png"]["url"] is None
    assert detail["complete"] is False
    download = village.http.get(f"{live_server}{files['house.jpg']['url']}", timeout=30)
    assert download.status_code == 200 and download.content == photo
    assert download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert 'filename=house.jpg' in download.headers["Content-Disposition"]
    other = Api(live_server, "helper_other")
    assert other.http.get(f"{live_server}{files['house.jpg']['url']}",
                          timeout=30).status_code == 404
    assert village.get(f"/submissions/{row['id']}/attachments/sig.png").status_code == 404
    assert village.get(f"/submissions/{row['id']}/attachments/nope.jpg").status_code == 404
    # a download of personal data is an export: one audit entry, the refused ones none
    entries = Api(live_server, "county").get(
        "/audit", action="submission.attachment_downloaded").json()
    assert [(e["object_id"], e["details"]["name"]) for e in entries] == [
        (str(row["id"]), "house.jpg")]
