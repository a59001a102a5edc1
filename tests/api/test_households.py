"""REST /households sorting (issue 6): the shared ``sort`` argument on the household list."""

from __future__ import annotations

from tests.support.households import CHILD, HEAD, SPOUSE, id_number
from tests.support.rest import Api, post_household, total
from tests.support.seed import VILLAGE

SINGLE = {**HEAD, "a5_name": "王五", "a7_id_number": id_number("430421", "19700707", 71)}


def test_households_sort_by_size_and_creation_time(live_server, seeded):
    post_household(live_server, seeded, [HEAD, SPOUSE, CHILD])
    post_household(live_server, seeded, [SINGLE])
    county = Api(live_server, "county")

    by_size = county.items("/households", sort="-size")
    # (updated_at is set by the database's clock: whole seconds on SQLite, so both may tie)
    oldest_first = county.items("/households", sort="created_at")
    newest_first = county.items("/households", sort="-created_at,area_code")
    by_update = county.items("/households", sort="-updated_at,-size")

    assert [h["size"] for h in by_size] == [3, 1]
    assert [h["head_name"] for h in oldest_first] == ["张三", "王五"]
    assert [h["head_name"] for h in newest_first] == ["王五", "张三"]
    assert by_update[0]["updated_at"] >= by_update[1]["updated_at"]
    assert county.items("/households", sort="size")[0]["size"] == 1


def test_the_default_household_order_is_by_area_and_paginated(live_server, seeded):
    post_household(live_server, seeded, [HEAD, SPOUSE, CHILD])
    post_household(live_server, seeded, [SINGLE])
    county = Api(live_server, "county")

    first = county.get("/households", page_size=1)

    assert len(first.json()) == 1 and total(first) == 2
    assert first.json()[0]["area_code"].startswith(VILLAGE)
    assert county.get("/households", sort="head_name").status_code == 422
