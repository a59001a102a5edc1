"""The console's 农户, 审核, 冲突 and 疑似重复 pages (issue 13, pages 4–6): a county user resolves
a conflict in Chromium and sees the audit entry; a helper of one village cannot open another
village's household by URL; a photo's thumbnail is made once and then served from the media
store; a reviewer corrects an invalid submission beside its problems, or must give a reason to
reject it; a likely duplicate is judged. The rules stay tested in the services."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from media import LocalMediaStore
from server.areas.models import Area
from server.areas.services import add_groups
from server.audit.models import AuditEntry
from server.auth import issue_token
from server.domain.fields import ID_NUMBER
from server.domain.roles import Role
from server.households.models import Household
from tests.api.test_conflicts import TWIN
from tests.api.test_submissions import BAD_SPOUSE
from tests.support.collect import jpeg_bytes
from tests.support.console import Console, follow, log_in
from tests.support.households import CHILD, HEAD, SPOUSE, id_number
from tests.support.rest import Api, add_user, household_of, post_household
from tests.support.seed import OTHER_TOWNSHIP, TOWNSHIP

OTHER_HEAD = {**HEAD, "a5_name": "王五", "a7_id_number": id_number("430421", "19700707", 71)}
OTHER_VILLAGE = f"{OTHER_TOWNSHIP}201"  # 福星村委会, in the other township


def _error_code(page) -> str:
    return page.locator("[data-error-code]").first.get_attribute("data-error-code")


@pytest.mark.slow
def test_a_county_user_resolves_a_conflict_and_sees_the_audit_entry(page, live_server, seeded):
    """Issue 13 page 6 (SPEC §5): the child is in 王五's household when 张三's resurvey lists
    them too. The county user sees the submission's roster beside both registered households,
    is told on the page that a move needs its reason, resolves it as a real move, and sees the
    submission taken in and the audit entry."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [OTHER_HEAD, CHILD])
    post_household(live_server, seeded, [HEAD, SPOUSE, CHILD],
                   resurveys=household_of(live_server, HEAD["a7_id_number"]))
    log_in(page, live_server, "county")

    follow(page, page.get_by_role("navigation", name="主导航").get_by_role("link", name="冲突"))
    follow(page, page.locator("table.conflicts a").first)
    incoming = page.locator(".side").first.locator("tr.involved")
    registered = page.locator("article.registered")
    assert incoming.inner_text().startswith("3\t张小")
    assert registered.count() == 2
    assert page.locator("article.registered tr.involved").count() == 1  # in 王五's household

    page.get_by_role("radio", name=re.compile("^真实迁移")).check()
    follow(page, page.get_by_role("button", name="确认处理"))
    refused = _error_code(page)
    page.get_by_role("textbox", name=re.compile("^理由")).fill("随母迁入")
    follow(page, page.get_by_role("button", name="确认处理"))

    assert refused == "REASON_REQUIRED"
    assert page.locator("[data-status]").first.get_attribute("data-status") == "resolved"
    assert page.locator("[data-submission-state]").get_attribute(
        "data-submission-state") == "applied"
    history = page.locator("table.history tbody tr")
    assert history.count() == 1
    assert "county" in history.inner_text() and "随母迁入" in history.inner_text()
    [child] = Api(live_server, "county").people_with_id(CHILD["a7_id_number"])
    assert child["household_id"] == household_of(live_server, HEAD["a7_id_number"])


@pytest.mark.slow
def test_a_helper_cannot_open_another_villages_household_by_url(page, live_server, seeded):
    """Issue 13 (SPEC §1): every page shows only what the user's area holds — a helper opens
    their village's household (IDs masked) and gets the 404 page for another village's."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [OTHER_HEAD], username="helper_other",
                   village=OTHER_VILLAGE, addr_group="")  # the seed gives it no groups
    mine = household_of(live_server, HEAD["a7_id_number"])
    theirs = household_of(live_server, OTHER_HEAD["a7_id_number"])
    log_in(page, live_server, "helper")

    follow(page, page.get_by_role("navigation", name="主导航").get_by_role("link", name="农户"))
    listed = page.locator("table.households tbody tr[data-household-id]")
    assert [listed.nth(i).get_attribute("data-household-id")
            for i in range(listed.count())] == [mine]
    follow(page, listed.first.get_by_role("link"))
    shown_ids = page.locator("table.members td.id").all_inner_texts()
    response = page.goto(f"{live_server}/console/households/{theirs}")

    assert shown_ids == [HEAD["a7_id_number"][:6] + "********" + HEAD["a7_id_number"][-4:],
                         SPOUSE["a7_id_number"][:6] + "********" + SPOUSE["a7_id_number"][-4:]]
    assert response.status == 404
    assert _error_code(page) == "NOT_FOUND"


def test_the_household_search_by_id_number_is_a_post_that_keeps_the_number_out_of_urls(
        page, live_server, seeded):
    """Issue 15 (8): the household list's search by a member's ID number is a form POSTed
    with its CSRF token: the household is found and the number is in no URL; an ID number in
    the list's URL is refused (400 ID_NUMBER_IN_URL)."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [OTHER_HEAD])
    theirs = household_of(live_server, OTHER_HEAD["a7_id_number"])
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    log_in(page, live_server, "village")

    page.goto(f"{live_server}/console/households")
    page.get_by_label("成员身份证号码").fill(OTHER_HEAD["a7_id_number"])
    follow(page, page.get_by_role("button", name="查找"))
    listed = page.locator("table.households tbody tr[data-household-id]")
    expect(listed).to_have_count(1)
    found = listed.first.get_attribute("data-household-id")
    refused = page.goto(f"{live_server}/console/households?id_number={HEAD['a7_id_number']}")

    assert found == theirs
    assert not any(OTHER_HEAD["a7_id_number"] in url for url in urls)
    assert refused.status == 400 and _error_code(page) == "ID_NUMBER_IN_URL"


def test_a_thumbnail_is_made_once_then_served_from_the_media_store(live_server, seeded, db,
                                                                   app_config):
    """Issue 13 page 4: photos as thumbnails made once with Pillow and cached in the media store
    (a derived object beside the photo); the second request is served from there — here the
    kept thumbnail is replaced by a marker, which is what comes back. Full size on click is
    the photo itself, audited as a download."""
    photo = jpeg_bytes((1200, 900))
    post_household(live_server, seeded, [HEAD, SPOUSE], files={"house.jpg": photo},
                   photo_house="house.jpg")
    household = household_of(live_server, HEAD["a7_id_number"])
    console = Console(live_server)
    console.login("village")
    html = console.get(f"/households/{household}").text
    thumbnail = re.search(r'src="(/console/households/[^"]+/thumbnails/[^"]+)"', html).group(1)
    full = re.search(r'href="(/console/households/[^"]+/files/[^"]+)"', html).group(1)
    store = LocalMediaStore(app_config["MEDIA_STORE"])
    key = hashlib.sha256(photo).hexdigest()

    first = console.http.get(f"{live_server}{thumbnail}", timeout=30)
    kept = store.open_derived(key, "thumbnail-320").read()
    store.put_derived(key, "thumbnail-320", b"kept thumbnail")
    second = console.http.get(f"{live_server}{thumbnail}", timeout=30)
    original = console.http.get(f"{live_server}{full}", timeout=30)

    assert (first.status_code, first.headers["Content-Type"]) == (200, "image/jpeg")
    assert first.content == kept and len(kept) < len(photo)
    assert second.content == b"kept thumbnail"
    assert original.content == photo
    db.commit()
    assert db.scalar(select(AuditEntry.action).where(
        AuditEntry.action == "submission.attachment_downloaded")) is not None


def test_a_reviewer_corrects_an_invalid_submission_beside_its_problem(live_server, seeded, db):
    """Issue 13 page 5: the located problem in Chinese beside the spouse's ID number; the
    correction is taken in again; rejecting without a reason is refused on the page."""
    post_household(live_server, seeded, [HEAD, BAD_SPOUSE])
    [row] = Api(live_server, "county").items("/submissions", reviewable="true")
    console = Console(live_server)
    console.login("county")

    queue = console.get("/review").text
    page = console.get(f"/review/{row['id']}").text
    no_reason = console.post(f"/review/{row['id']}/reject", {"reason": " "})
    key = f"members[2]/{ID_NUMBER.name}"
    corrected = console.post(f"/review/{row['id']}/correct",
                             {f"c:{key}": SPOUSE["a7_id_number"], "note": "核对身份证"})
    after = console.get(f"/review/{row['id']}").text

    assert f'data-submission-id="{row["id"]}"' in queue
    problem_row = re.search(rf'<tr data-key="{re.escape(key)}" class="has-error">(.*?)</tr>',
                            page, re.S).group(1)
    assert BAD_SPOUSE["a7_id_number"] in problem_row and 'data-code="ID_CHECKSUM"' in problem_row
    assert no_reason.status_code == 400 and 'data-error-code="REASON_REQUIRED"' in no_reason.text
    assert corrected.status_code == 302
    assert 'data-state="applied"' in after
    db.commit()
    assert db.scalar(select(Household.id)) is not None


def test_a_likely_duplicate_is_judged_and_the_verdict_audited(live_server, seeded):
    """SPEC §5: likely duplicates are never merged; a "not the same person" verdict is kept."""
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [TWIN])
    [flag] = Api(live_server, "county").items("/duplicate-flags")
    console = Console(live_server)
    console.login("township")

    listed = console.get("/duplicates").text
    shown = console.get(f"/duplicates/{flag['id']}").text
    judged = console.post(f"/duplicates/{flag['id']}/judge", {"same_person": "0"})
    after = console.get(f"/duplicates/{flag['id']}").text
    helper = Console(live_server)
    helper.login("helper")

    assert f'data-flag-id="{flag["id"]}"' in listed
    assert shown.count("张三") >= 2 and 'name="same_person"' in shown
    assert judged.status_code == 302
    assert 'data-status="not_same"' in after and 'data-action="duplicate.judged"' in after
    assert helper.get(f"/duplicates/{flag['id']}").status_code == 403


def test_a_likely_duplicate_across_two_villages_is_read_only_for_either_village(
        live_server, seeded, db):
    """Issue 15 (9): the console shows a flag spanning two villages to a village reviewer
    without the verdict form, and refuses a verdict posted anyway (403
    DUPLICATE_OUTSIDE_AREA); the township decides it."""
    other_village = f"{TOWNSHIP}200"
    add_groups(db, db.get(Area, other_village), ["第一村民小组"])
    helper_b = add_user(db, "helper_b", Role.HELPER, other_village)
    seeded.tokens["helper_b"] = issue_token(db, helper_b)
    db.commit()
    post_household(live_server, seeded, [HEAD, SPOUSE])
    post_household(live_server, seeded, [TWIN], username="helper_b", village=other_village)
    [flag] = Api(live_server, "county").items("/duplicate-flags")
    village, township = Console(live_server), Console(live_server)
    village.login("village")
    township.login("township")

    shown = village.get(f"/duplicates/{flag['id']}").text
    refused = village.post(f"/duplicates/{flag['id']}/judge", {"same_person": "0"})
    offered = township.get(f"/duplicates/{flag['id']}").text
    judged = township.post(f"/duplicates/{flag['id']}/judge", {"same_person": "0"})

    assert 'data-error-code="DUPLICATE_OUTSIDE_AREA"' in shown
    assert 'name="same_person"' not in shown
    assert refused.status_code == 403
    assert 'data-error-code="DUPLICATE_OUTSIDE_AREA"' in refused.text
    assert 'name="same_person"' in offered and judged.status_code == 302
