"""REST /areas (issue 6): the area tree as far as the user's own area reaches (SPEC §1: every
user is bound to one area and sees only what lies inside it)."""

from __future__ import annotations

from tests.support.rest import Api, total
from tests.support.seed import COUNTY, OTHER_TOWNSHIP, TOWNSHIP, VILLAGE


def test_a_village_user_sees_their_village_and_its_groups_only(live_server, seeded):
    village = Api(live_server, "village")

    codes = [area["code"] for area in village.items("/areas")]

    assert codes == [VILLAGE, f"{VILLAGE}001", f"{VILLAGE}002"]
    assert village.get(f"/areas/{TOWNSHIP}").status_code == 404  # an ancestor: not listed
    assert village.get(f"/areas/{OTHER_TOWNSHIP}").status_code == 404


def test_areas_filter_by_parent_and_level(live_server, seeded):
    county = Api(live_server, "county")

    townships = county.get("/areas", level="township", page_size=100)
    villages = county.items("/areas", parent_code=TOWNSHIP, page_size=100)
    groups = county.items("/areas", parent_code=VILLAGE, level="group")

    assert total(townships) == len(townships.json()) > 10
    assert all(a["level"] == "township" and a["parent_code"] == COUNTY and len(a["code"]) == 9
               for a in townships.json())
    assert villages and all(a["parent_code"] == TOWNSHIP and a["level"] == "village"
                            for a in villages)
    assert [(g["code"], g["name"], g["level_name"]) for g in groups] == [
        (f"{VILLAGE}001", "第一村民小组", "村民小组"),
        (f"{VILLAGE}002", "第二村民小组", "村民小组")]


def test_an_area_is_read_by_code_inside_the_area_only(live_server, seeded):
    township = Api(live_server, "township")

    own = township.get(f"/areas/{TOWNSHIP}")
    inside = township.get(f"/areas/{VILLAGE}")

    assert own.status_code == 200 and own.json()["name"] == "洪市镇"
    assert inside.json()["parent_code"] == TOWNSHIP
    assert township.get(f"/areas/{COUNTY}").status_code == 404
    assert township.get("/areas/not-a-code").json()["code"] == "NOT_FOUND"


def test_areas_are_paginated_in_code_order(live_server, seeded):
    county = Api(live_server, "county")

    first = county.get("/areas", page=1, page_size=5)
    second = county.get("/areas", page=2, page_size=5)

    codes = [a["code"] for a in first.json() + second.json()]
    assert codes == sorted(codes) and len(set(codes)) == 10
    assert codes[0] == COUNTY
    assert total(first) == total(second) > 100  # 衡阳县's townships and 491 villages


def test_a_bad_filter_is_a_422(live_server, seeded):
    county = Api(live_server, "county")

    assert county.get("/areas", level="province").status_code == 422
    assert county.get("/areas", parent_code="43x").status_code == 422
