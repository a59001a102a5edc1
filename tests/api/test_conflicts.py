"""REST /conflicts and /duplicate-flags (issue 6, SPEC §5): what deduplication holds for people
to decide, listed inside the area with ID numbers masked by role; reviewers resolve a conflict
(the held submission is then taken in) and judge a likely duplicate; both are audited."""

from __future__ import annotations

import pytest

from server.areas.models import Area
from server.areas.services import add_groups
from server.auth import issue_token
from server.domain.idnumber import check_character
from server.domain.roles import Role
from tests.support.households import CHILD, HEAD, SPOUSE, id_number
from tests.support.rest import Api, add_user, household_of, post_household, total
from tests.support.seed import OTHER_TOWNSHIP, TOWNSHIP

OTHER_HEAD = {**HEAD, "a5_name": "王五", "a7_id_number": id_number("430421", "19700707", 71)}
NEAR = "43042219800101011"  # 张三's ID with one digit changed; same name and birth date
TWIN = {**HEAD, "a7_id_number": NEAR + check_character(NEAR)}


def masked(value: str) -> str:
    return value[:6] + "********" + value[-4:]


@pytest.fixture
def conflict(live_server, seeded) -> dict:
    """The child is already in 王五's household when 张三's resurvey lists them too."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [OTHER_HEAD, CHILD])
    post_household(live_server, seeded, [HEAD, SPOUSE, CHILD],
                   resurveys=household_of(live_server, HEAD["a7_id_number"]))
    [row] = Api(live_server, "county").items("/conflicts", status="open")
    return row


@pytest.fixture
def flag(live_server, seeded) -> dict:
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [TWIN])
    [row] = Api(live_server, "county").items("/duplicate-flags")
    return row


def test_a_held_conflict_is_listed_in_the_area_with_the_id_masked(live_server, conflict):
    village = Api(live_server, "village")

    [seen] = village.items("/conflicts")

    assert conflict["id_number"] == CHILD["a7_id_number"]
    assert seen["id_number"] == masked(CHILD["a7_id_number"])
    assert (seen["kind"], seen["status"], seen["submission_state"]) == (
        "multiple_households", "open", "held")
    assert seen["member_indexes"] == [3] and len(seen["households"]) == 2  # both claimants
    assert village.get(f"/conflicts/{seen['id']}").json() == seen
    other = Api(live_server, "helper_other")
    assert other.items("/conflicts") == []
    assert other.get(f"/conflicts/{seen['id']}").status_code == 404
    assert village.items("/conflicts", status="resolved") == []
    assert village.items("/conflicts", kind="duplicate_in_submission") == []
    assert total(village.get("/conflicts", submission_id=seen["submission_id"])) == 1


def test_a_reviewer_resolves_a_move_and_the_submission_is_taken_in(live_server, conflict):
    """SPEC §5: a real move between households: the person follows the new roster."""
    village = Api(live_server, "village")

    response = village.post(f"/conflicts/{conflict['id']}/resolve",
                            {"resolution": "moved", "note": "随母迁入"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["resolution"], body["note"]) == ("resolved", "moved", "随母迁入")
    assert body["submission_state"] == "applied"
    county = Api(live_server, "county")
    [child] = county.people_with_id(CHILD["a7_id_number"])
    [head] = county.people_with_id(HEAD["a7_id_number"])
    assert child["household_id"] == head["household_id"]
    [entry] = county.items("/audit", action="conflict.resolved")
    assert entry["username"] == "village" and entry["details"]["resolution"] == "moved"
    again = village.post(f"/conflicts/{conflict['id']}/resolve", {"resolution": "moved"})
    assert (again.status_code, again.json()["code"]) == (409, "CONFLICT_ALREADY_RESOLVED")


def test_an_entry_error_rejects_the_held_submission(live_server, conflict):
    response = Api(live_server, "township").post(f"/conflicts/{conflict['id']}/resolve",
                                                 {"resolution": "entry_error"})

    assert response.json()["submission_state"] == "rejected"


def test_helpers_and_other_areas_cannot_resolve(live_server, db, conflict):
    add_user(db, "township_other", Role.TOWNSHIP, OTHER_TOWNSHIP)

    by_helper = Api(live_server, "helper").post(f"/conflicts/{conflict['id']}/resolve",
                                                {"resolution": "moved"})
    elsewhere = Api(live_server, "township_other").post(
        f"/conflicts/{conflict['id']}/resolve", {"resolution": "moved"})
    nonsense = Api(live_server, "village").post(f"/conflicts/{conflict['id']}/resolve",
                                                {"resolution": "merge"})

    assert (by_helper.status_code, by_helper.json()["code"]) == (403, "FORBIDDEN_ROLE")
    assert elsewhere.status_code == 404
    assert nonsense.status_code == 422
    assert Api(live_server, "county").items("/conflicts")[0]["status"] == "open"


def test_a_likely_duplicate_is_listed_masked_with_both_people(live_server, flag):
    village = Api(live_server, "village")

    [seen] = village.items("/duplicate-flags", status="open")

    assert {flag["id_number_a"], flag["id_number_b"]} == {HEAD["a7_id_number"],
                                                          TWIN["a7_id_number"]}
    assert {seen["id_number_a"], seen["id_number_b"]} == {masked(HEAD["a7_id_number"]),
                                                          masked(TWIN["a7_id_number"])}
    assert seen["person_a"]["name"] == seen["person_b"]["name"] == "张三"
    assert seen["person_a"]["household_id"] != seen["person_b"]["household_id"]
    assert village.get(f"/duplicate-flags/{seen['id']}").json() == seen
    assert Api(live_server, "helper_other").items("/duplicate-flags") == []


def test_a_not_the_same_person_verdict_is_recorded(live_server, db, flag):
    add_user(db, "township_other", Role.TOWNSHIP, OTHER_TOWNSHIP)
    village = Api(live_server, "village")

    by_helper = Api(live_server, "helper").post(f"/duplicate-flags/{flag['id']}/verdict",
                                                {"same_person": False})
    elsewhere = Api(live_server, "township_other").post(
        f"/duplicate-flags/{flag['id']}/verdict", {"same_person": False})
    judged = village.post(f"/duplicate-flags/{flag['id']}/verdict", {"same_person": False})

    assert by_helper.status_code == 403 and elsewhere.status_code == 404
    assert judged.status_code == 200 and judged.json()["status"] == "not_same"
    assert judged.json()["decided_by"] is not None
    assert village.items("/duplicate-flags", status="open") == []
    [entry] = Api(live_server, "county").items("/audit", action="duplicate.judged")
    assert entry["username"] == "village" and entry["details"]["status"] == "not_same"
    assert village.post(f"/duplicate-flags/{flag['id']}/verdict", {}).status_code == 422


def test_a_likely_duplicate_across_two_villages_is_judged_by_the_township(
        live_server, db, seeded):
    """Issue 15 (9): the two people of a flag live in two villages of one township: each
    village's reviewer still sees the flag, but deciding it is refused (403
    DUPLICATE_OUTSIDE_AREA) and left open; the township, whose area contains both households,
    decides it."""
    other_village = f"{TOWNSHIP}200"
    add_groups(db, db.get(Area, other_village), ["第一村民小组"])
    helper_b = add_user(db, "helper_b", Role.HELPER, other_village)
    seeded.tokens["helper_b"] = issue_token(db, helper_b)
    db.commit()
    add_user(db, "village_b", Role.VILLAGE, other_village)
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [TWIN], username="helper_b", village=other_village)
    [flag] = Api(live_server, "county").items("/duplicate-flags")
    verdict = f"/duplicate-flags/{flag['id']}/verdict"

    refused = [Api(live_server, name).post(verdict, {"same_person": False})
               for name in ("village", "village_b")]
    seen = [Api(live_server, name).items("/duplicate-flags", status="open")
            for name in ("village", "village_b")]
    judged = Api(live_server, "township").post(verdict, {"same_person": False})

    assert [(r.status_code, r.json()["code"]) for r in refused] == [
        (403, "DUPLICATE_OUTSIDE_AREA")] * 2
    assert [[row["id"] for row in rows] for rows in seen] == [[flag["id"]]] * 2
    assert judged.status_code == 200 and judged.json()["status"] == "not_same"
    [entry] = Api(live_server, "county").items("/audit", action="duplicate.judged")
    assert entry["username"] == "township"


def test_a_conflict_reaching_outside_the_village_is_decided_by_the_area_covering_both(
        live_server, seeded):
    """SPEC §5: an address outside the helper's area holds the submission for a reviewer whose
    area covers both — the county here — and the helper's own village and township do not
    decide it."""
    response = post_household(live_server, seeded, [HEAD, SPOUSE],
                              village=f"{OTHER_TOWNSHIP}200")

    assert response.status_code == 201
    assert Api(live_server, "village").items("/conflicts") == []
    assert Api(live_server, "township").items("/conflicts") == []
    [row] = Api(live_server, "county").items("/conflicts")
    assert (row["kind"], row["area_code"]) == ("outside_area", OTHER_TOWNSHIP[:6])
    assert Api(live_server, "county").items("/households") == []
