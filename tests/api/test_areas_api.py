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


def test_the_county_adds_a_group_after_the_villages_last_and_renames_it(live_server, seeded):
    """Issue 13 (用户和区划): a county user adds a 村民小组 to a village — numbered after its
    last group — and renames it; both are in the audit log with the names."""
    county = Api(live_server, "county")

    added = county.post(f"/areas/{VILLAGE}/groups", {"name": "  第三村民小组 "})
    renamed = county.patch(f"/areas/{VILLAGE}003", {"name": "新屋组"})
    again = county.post(f"/areas/{VILLAGE}/groups", {"name": "第四村民小组"})

    assert added.status_code == 201, added.text
    assert (added.json()["code"], added.json()["name"], added.json()["parent_code"]) == (
        f"{VILLAGE}003", "第三村民小组", VILLAGE)
    assert renamed.status_code == 200 and renamed.json()["name"] == "新屋组"
    assert again.json()["code"] == f"{VILLAGE}004"
    groups = county.items("/areas", parent_code=VILLAGE)
    assert [(g["code"], g["name"]) for g in groups][2:] == [
        (f"{VILLAGE}003", "新屋组"), (f"{VILLAGE}004", "第四村民小组")]
    log = county.items("/audit", object_type="area", object_id=f"{VILLAGE}003")
    assert [(e["action"], e["details"].get("name"), e["details"].get("old_name"))
            for e in log] == [("area.renamed", "新屋组", "第三村民小组"),
                              ("area.added", "第三村民小组", None)]


def test_only_groups_of_villages_inside_the_area_are_added_or_renamed(live_server, seeded):
    """Issue 13: the national table's areas are named by its import (AREA_NATIONAL); a group
    goes under a village only; a name is 1–40 printable characters; a township user may not;
    an area outside the user's is not found."""
    county = Api(live_server, "county")
    township = Api(live_server, "township")

    assert county.patch(f"/areas/{VILLAGE}", {"name": "改名社区"}).json()["code"] \
        == "AREA_NATIONAL"
    assert county.post(f"/areas/{TOWNSHIP}/groups", {"name": "一组"}).json()["code"] \
        == "AREA_GROUP_NOT_VILLAGE"
    for name in ("", "   ", "组" * 41, "一\x00组"):
        refused = county.post(f"/areas/{VILLAGE}/groups", {"name": name})
        assert (refused.status_code, refused.json()["code"]) == (400, "AREA_NAME_INVALID")
    assert township.post(f"/areas/{VILLAGE}/groups", {"name": "一组"}).json()["code"] \
        == "FORBIDDEN_ROLE"
    outside = Api(live_server, "county").post("/areas/4304/groups", {"name": "一组"})
    assert outside.status_code == 404
    assert county.patch("/areas/not-a-code", {"name": "一组"}).json()["code"] \
        == "AREA_CODE_INVALID"
    assert [g["code"] for g in county.items("/areas", parent_code=VILLAGE)] == [
        f"{VILLAGE}001", f"{VILLAGE}002"]
