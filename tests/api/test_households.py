"""REST /households (issue 6: the shared ``sort`` argument on the household list; issue 11: the
detail and the survey history with the server's own figures, A6, the monitoring state)."""

from __future__ import annotations

from server.clock import today
from tests.api.test_monitoring import identify
from tests.api.test_monitoring import post_household as post_signed_household
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


# --- issue 11: the server's own figures, the members' A6, the monitoring state ------------------

WORKER_CHILD = {**CHILD, "a14_labour_skill": "02"}  # 技能劳动力 under 16: a warning, not an error
PHONE = "13812345678"


def household_of(county: Api, head_name: str = "张三") -> dict:
    [row] = [h for h in county.items("/households") if h["head_name"] == head_name]
    return county.items(f"/households/{row['id']}")


def test_the_household_shows_the_servers_figures_and_a6_from_the_id(live_server, seeded):
    """SPEC §2/§3 (issue 11): the detail shows what the server computed and stored on the
    survey — A26, A33, A34, A37, A38, the size, the proposed A3 type, the phone's differing
    values beside the server's, the warnings — and each member's A6 sex from the ID number."""
    post_household(live_server, seeded, [HEAD, SPOUSE, WORKER_CHILD], phone=PHONE,
                   a34_net_income_per_capita="5000", household_size="3")

    detail = household_of(Api(live_server, "county"))
    survey = detail["latest_survey"]

    # A33 = 12000 + 3000 + 0 + 1500 − 1000; A34 = A33 / 3; A37 = A33 + 0 − 2000; A38 = A37 / 3
    assert (survey["a33_net_income"], survey["a34_net_income_per_capita"],
            survey["a37_income_reference"], survey["a38_income_reference_per_capita"]) == (
        "15500.00", "5166.67", "13500.00", "4500.00")
    assert survey["size"] == 3 and survey["a26_member_uninsured"] is True  # the child: A17 否
    assert survey["proposed_type"] == "02" and survey["number"] == 1
    assert survey["phone_differs"] == [{"field": "a34_net_income_per_capita", "code": "A34",
                                        "phone": "5000", "server": "5166.67"}]
    assert [(w["code"], w["member"]) for w in survey["warnings"]] == [
        ("LABOUR_SKILL_AGE_UNUSUAL", 3)]
    assert [(m["name"], m["sex"]) for m in survey["members"]] == [
        ("张三", "1"), ("李四", "2"), ("张小", "1")]
    assert sorted((m["name"], m["sex"]) for m in detail["members"]) == [
        ("张三", "1"), ("张小", "1"), ("李四", "2")]
    assert detail["monitored"] is False and detail["monitored_since"] is None


def test_numbers_are_shown_by_the_one_rule_in_the_detail_and_the_history(live_server, seeded):
    """SPEC §7 "Personal data by role": ID numbers (head, members, the survey's values) masked
    for everyone but county and admin; phones in full for the household's own village (who
    call it), masked for the township — in the detail and in the survey history."""
    post_household(live_server, seeded, [HEAD, SPOUSE], phone=PHONE,
                   a55_contact_phone="13900001111")
    county, village = Api(live_server, "county"), Api(live_server, "village")
    township = Api(live_server, "township")
    household_id = household_of(county)["id"]

    full = county.get(f"/households/{household_id}").text
    shown = village.get(f"/households/{household_id}")
    history = village.get(f"/households/{household_id}/surveys")
    above = township.get(f"/households/{household_id}")

    assert HEAD["a7_id_number"] in full and PHONE in full
    detail = shown.json()
    assert detail["head_id_number"] == HEAD["a7_id_number"][:6] + "********" + HEAD[
        "a7_id_number"][-4:]
    assert detail["phone"] == detail["latest_survey"]["values"]["phone"] == PHONE
    member = detail["latest_survey"]["members"][1]
    assert member["id_number"] == member["values"]["a7_id_number"] == (
        SPOUSE["a7_id_number"][:6] + "********" + SPOUSE["a7_id_number"][-4:])
    for text in (shown.text, history.text, above.text):
        assert HEAD["a7_id_number"] not in text and SPOUSE["a7_id_number"] not in text
    assert above.json()["phone"] == above.json()["latest_survey"]["values"]["phone"] == \
        "138****5678"
    assert above.json()["latest_survey"]["values"]["a55_contact_phone"] == "139****1111"
    assert PHONE not in above.text and "13900001111" not in above.text


def test_the_survey_history_lists_every_version_with_its_figures(live_server, seeded):
    """SPEC §5: a resurvey is a new survey version kept with its history — each one readable
    with the server's figures (issue 11: /households/<id>/surveys[/<number>])."""
    post_household(live_server, seeded, [HEAD, SPOUSE, CHILD])
    county = Api(live_server, "county")
    household_id = household_of(county)["id"]
    post_household(live_server, seeded, [HEAD, SPOUSE, CHILD], a28_wages="20000",
                   resurveys=household_id)

    listed = county.get(f"/households/{household_id}/surveys")
    second = county.items(f"/households/{household_id}/surveys/2")

    assert total(listed) == 2
    assert [(s["number"], s["a33_net_income"]) for s in listed.json()] == [
        (1, "15500.00"), (2, "23500.00")]
    assert second == listed.json()[1]
    assert household_of(county)["latest_survey"] == second
    assert county.get(f"/households/{household_id}/surveys/3").status_code == 404


def test_households_outside_the_area_and_their_surveys_are_not_found(live_server, seeded):
    """SPEC §1: every user sees only what lies inside their area (detail and survey history)."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    household_id = household_of(Api(live_server, "county"))["id"]
    other = Api(live_server, "helper_other")

    for path in ("", "/surveys", "/surveys/1"):
        response = other.get(f"/households/{household_id}{path}")
        assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    assert Api(live_server, "helper").get(f"/households/{household_id}/surveys/1").ok
    assert other.get("/households/0b7b1c52-0000-4c1e-9a51-000000000000/surveys"
                     ).status_code == 404


def test_the_household_shows_whether_and_since_when_it_is_monitored(live_server, seeded, db):
    """SPEC §6: a household becomes a monitoring object when the county approves its
    identification — the detail says so and since which day (the rule of
    server.monitoring.services.monitored_households, not written again)."""
    household_id = post_signed_household(live_server, seeded, db, [HEAD, SPOUSE, CHILD])
    county = Api(live_server, "county")
    before = county.items(f"/households/{household_id}")

    identify(db, household_id)
    after = county.items(f"/households/{household_id}")

    assert (before["monitored"], before["monitored_since"]) == (False, None)
    assert (after["monitored"], after["monitored_since"]) == (True, today().isoformat())
