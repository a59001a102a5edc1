"""REST /audit (issue 6): the audit log for county and admin users only, inside their area,
newest first, with filters, sorting and pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.roles import Role
from tests.support.households import HEAD, SPOUSE
from tests.support.rest import OTHER_COUNTY, Api, add_user, post_household, total, user_id


@pytest.mark.parametrize("username", ["helper", "village", "township"])
def test_other_roles_may_not_read_the_audit_log(live_server, seeded, username):
    response = Api(live_server, username).get("/audit")

    assert (response.status_code, response.json()["code"]) == (403, "FORBIDDEN_ROLE")


def test_the_log_is_newest_first_and_filtered(live_server, seeded, db):
    post_household(live_server, seeded, [HEAD, SPOUSE])
    county = Api(live_server, "county")

    entries = county.items("/audit", page_size=100)
    received = county.items("/audit", action="submission.received")
    by_helper = county.items("/audit", user_id=user_id(db, "helper"))

    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)
    assert [e["action"] for e in entries[:3]] == ["submission.applied", "household.created",
                                                  "submission.received"]
    assert [(e["username"], e["object_type"]) for e in received] == [("helper", "submission")]
    assert {e["action"] for e in by_helper} == {"submission.received"}
    submission = received[0]["object_id"]
    about = county.items("/audit", object_type="submission", object_id=submission)
    assert [e["action"] for e in about] == ["submission.applied", "submission.received"]
    assert about[0]["user_id"] is None and about[0]["username"] is None


def test_the_log_filters_by_time(live_server, seeded):
    post_household(live_server, seeded, [HEAD, SPOUSE])
    county = Api(live_server, "county")
    now = datetime.now(UTC)

    since_an_hour_ago = county.items("/audit", action="submission.received",
                                     **{"from": (now - timedelta(hours=1)).isoformat()})
    until_an_hour_ago = county.items("/audit", action="submission.received",
                                     to=(now - timedelta(hours=1)).isoformat())
    from_tomorrow = county.items("/audit", **{"from": (now + timedelta(days=1)).isoformat()})
    beijing_naive = (now + timedelta(hours=8, minutes=10)).replace(tzinfo=None).isoformat()

    assert len(since_an_hour_ago) == 1 and until_an_hour_ago == [] and from_tomorrow == []
    assert len(county.items("/audit", action="submission.received", to=beijing_naive)) == 1
    assert county.get("/audit", **{"from": "0001-01-01T00:00:00+14:00"}).status_code == 422
    assert county.get("/audit", to="yesterday").status_code == 422


def test_the_log_sorts_and_paginates(live_server, seeded):
    post_household(live_server, seeded, [HEAD, SPOUSE])
    county = Api(live_server, "county")

    oldest_first = county.items("/audit", sort="at", page_size=100)
    by_action = county.items("/audit", sort="action,-id", page_size=100)
    first = county.get("/audit", page_size=2)
    second = county.get("/audit", page=2, page_size=2)

    ids = [e["id"] for e in oldest_first]
    assert [e["at"] for e in oldest_first] == sorted(e["at"] for e in oldest_first)
    actions = [e["action"] for e in by_action]
    assert actions == sorted(actions)
    assert total(first) == len(ids) > 4
    assert [e["id"] for e in first.json() + second.json()] == list(reversed(ids))[:4]
    unknown = county.get("/audit", sort="details")
    assert unknown.status_code == 422 and "sort" in unknown.json()["errors"]["query"]


def test_the_log_is_scoped_to_the_area(live_server, seeded, db):
    """Entries of users outside the area, and the system's entries about submissions and
    households outside it, are not shown; entries about nothing area-bound are."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    add_user(db, "admin_next_door", Role.ADMIN, OTHER_COUNTY)
    add_user(db, "city_admin", Role.ADMIN, "4304")
    next_door = Api(live_server, "admin_next_door")
    created = next_door.post("/users", {"username": "helper_next_door", "full_name": "赵六",
                                        "password": "long-enough-1", "role": "helper",
                                        "area_code": OTHER_COUNTY})
    assert created.status_code == 201

    theirs = {e["action"] for e in next_door.items("/audit", page_size=100)}
    ours = {e["action"] for e in Api(live_server, "county").items("/audit", page_size=100)}
    city = {e["action"] for e in Api(live_server, "city_admin").items("/audit", page_size=100)}

    assert {"user.created", "form.published"} <= theirs
    assert theirs.isdisjoint({"submission.received", "submission.applied", "household.created"})
    assert {"submission.received", "submission.applied", "household.created",
            "form.published"} <= ours
    assert "user.created" not in ours
    assert ours | theirs <= city
