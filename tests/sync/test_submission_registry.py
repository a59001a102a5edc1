"""From the phone's POST to the registry, over real HTTP (issue 5)."""

from __future__ import annotations

import csv
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from lxml import etree
from sqlalchemy import func, select

from server.auth import issue_token
from server.domain.roles import Role
from server.households.models import Household, Person, SurveyVersion
from server.submissions.models import Submission
from sync.openrosa import submission_message
from tests.integration.test_registry import CHILD, HEAD, HOUSEHOLD, SPOUSE
from tests.support.collect import (
    RESPONSE_NS,
    CollectClient,
    form_instance,
    parse_form_list,
    parse_manifest,
)
from tests.support.households import id_number
from tests.support.rest import Api, add_user
from tests.support.seed import TOWNSHIP


@pytest.fixture
def client(live_server, seeded) -> CollectClient:
    return CollectClient(live_server, seeded.tokens["helper"])


def household_xml(seeded, members, instance_id=None, **household) -> bytes:
    return form_instance("household", seeded.form_versions["household"],
                         {**HOUSEHOLD, **household}, members, instance_id)


def households_list(client: CollectClient) -> list[dict[str, str]]:
    form = next(f for f in parse_form_list(client.form_list()) if f["formID"] == "measures")
    files = parse_manifest(client.get(form["manifestUrl"]))
    url = next(f["downloadUrl"] for f in files if f["filename"] == "households.csv")
    return list(csv.DictReader(io.StringIO(client.get(url).content.decode("utf-8"))))


def test_a_posted_household_survey_reaches_the_registry_and_the_phones_list(client, seeded, db):
    """Issue 4/5: a household registered by any form appears in the list on the next update."""
    assert households_list(client) == []

    response = client.submit(household_xml(seeded, [HEAD, SPOUSE, CHILD]))

    assert response.status_code == 201
    submission = db.scalar(select(Submission))
    assert submission.state == "applied", submission.problems
    [row] = households_list(client)
    assert row["name"] == submission.household_id
    assert row["head_name"] == "张三" and row["household_size"] == "3"
    assert row["label"] == "张三 洪罗庙社区第一村民小组"
    assert row["head_id_masked"].startswith("430421") and "*" in row["head_id_masked"]
    assert row["__version"] == "1" and row["a28_wages"] == "12000"


def test_another_helpers_households_are_not_in_my_list(client, live_server, seeded):
    client.submit(household_xml(seeded, [HEAD, SPOUSE]))

    other = CollectClient(live_server, seeded.tokens["helper_other"])

    assert households_list(other) == []


def test_an_invalid_survey_is_stored_and_kept_with_its_problems(client, seeded, db):
    """Issue 5: a submission failing server validation is kept with its errors, never dropped."""
    bad = {**SPOUSE, "a7_id_number": SPOUSE["a7_id_number"][:17] + "0"}

    response = client.submit(household_xml(seeded, [HEAD, bad]))

    assert response.status_code == 201  # received: the phone may delete its copy
    submission = db.scalar(select(Submission))
    assert submission.state == "invalid"
    assert [p["code"] for p in submission.problems] == ["ID_CHECKSUM"]
    assert submission.problems[0]["member"] == 2 and submission.problems[0]["message"]


@pytest.mark.concurrent
def test_two_phones_racing_on_one_household_end_with_one_household(client, seeded, db):
    """SPEC §5: two phones submitting the same household at the same moment, one household.

    Each says it is a new household: the first registers it, and as the others' people are then
    registered, they are held for a reviewer (a new household never takes over another)."""
    bodies = [household_xml(seeded, [HEAD, SPOUSE, CHILD], f"uuid:race-{n}") for n in range(6)]

    def send(body: bytes) -> int:
        return CollectClient(client.base_url, client.token).submit(body).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(send, bodies))

    assert statuses == [201] * 6
    assert db.scalar(select(func.count()).select_from(Household)) == 1
    assert db.scalar(select(func.count()).select_from(Person)) == 3
    assert db.scalar(select(func.count()).select_from(SurveyVersion)) == 1
    assert sorted(db.scalars(select(Submission.state))) == ["applied"] + ["held"] * 5


def test_phones_sending_together_are_taken_in_together_each_as_alone(client, seeded, db, app,
                                                                       monkeypatch):
    """Inline, requests that reach the take-in while a take-in runs share the next batch (group
    commit). Each phone hears its own outcome, and the registry is what taking them in one by
    one leaves: here the first phone's household is being taken in; meanwhile a second phone
    sends a new household and a third the same household again (held: its people are
    registered by then). The first one's copy, sent again after, is stored once."""
    from server.intake import worker

    batches: list[list[int]] = []
    release = threading.Event()
    real = worker.take_in_many

    def recorded(session, submission_ids, *args, **kwargs):
        batches.append(list(submission_ids))
        if len(batches) == 1:
            assert release.wait(30)  # the first batch runs while the others arrive
        return real(session, submission_ids, *args, **kwargs)

    monkeypatch.setattr(worker, "take_in_many", recorded)
    group = app.extensions["fangpin.take_in"]._group
    other = dict(HEAD, a5_name="王五", a7_id_number=id_number("430421", "19800808", 57))
    first = household_xml(seeded, [HEAD, SPOUSE], "uuid:together-1")
    later = [household_xml(seeded, [other], "uuid:together-2"),
             household_xml(seeded, [HEAD, SPOUSE], "uuid:together-3")]

    def send(body: bytes):
        return CollectClient(client.base_url, client.token).submit(body)

    def until(condition) -> None:
        for _ in range(1000):
            if condition():
                return
            time.sleep(0.01)
        raise AssertionError("the phones never got that far")

    with ThreadPoolExecutor(max_workers=3) as pool:
        first_sent = pool.submit(send, first)
        until(lambda: batches)
        later_sent = [pool.submit(send, body) for body in later]
        until(lambda: group.waiting == 2)
        release.set()
        responses = [first_sent.result(30)] + [sent.result(30) for sent in later_sent]
    again = send(first)

    assert [r.status_code for r in responses + [again]] == [201] * 4
    assert [r.headers["X-Submission-State"] for r in responses] == ["applied", "applied", "held"]
    ids = dict(db.execute(select(Submission.instance_id, Submission.id)).all())
    assert batches == [[ids["uuid:together-1"]],
                       sorted([ids["uuid:together-2"], ids["uuid:together-3"]])]
    assert db.scalar(select(func.count()).select_from(Household)) == 2
    assert db.scalar(select(func.count()).select_from(Person)) == 3


def test_a_failing_take_in_never_loses_the_submission(client, seeded, db, monkeypatch):
    """DESIGN: a take-in that raises (the database, say) leaves the submission stored and
    received, to take in later; the phone is still answered."""
    from server.intake import take_in, worker

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated: the database went away")

    monkeypatch.setattr(worker, "take_in_many", broken)
    response = client.submit(household_xml(seeded, [HEAD, SPOUSE]))
    monkeypatch.undo()

    assert response.status_code == 201
    submission = db.scalar(select(Submission))
    assert submission.state == "received"
    assert db.scalar(select(func.count()).select_from(Household)) == 0
    assert take_in(db, submission.id) == "applied"
    db.commit()
    assert db.scalar(select(func.count()).select_from(Household)) == 1


# --- what the phone hears (issue 11.11) -------------------------------------------------------


def _message(response) -> tuple[str, str]:
    element = etree.fromstring(response.content).find("r:message", RESPONSE_NS)
    return element.text, element.get("nature")


def test_an_invalid_submission_is_answered_201_with_its_problems_listed(client, seeded, db):
    """SPEC §5/§6 (kept with its problems for review): Collect cannot edit a sent form, so an
    invalid submission is still 201, but the phone is told what the server found, not
    提交成功: the message lists the stored problems, so the helper can check them on the spot.
    A resend of the same instance is told the same."""
    bad = {**SPOUSE, "a7_id_number": SPOUSE["a7_id_number"][:17] + "0"}  # bad check character
    xml = household_xml(seeded, [HEAD, bad])

    response = client.submit(xml)
    again = client.submit(xml)

    submission = db.scalar(select(Submission))
    assert submission.state == "invalid"
    assert [p["code"] for p in submission.problems] == ["ID_CHECKSUM"]
    for answer, repeated in ((response, False), (again, True)):
        assert answer.status_code == 201
        assert answer.headers["X-Submission-State"] == "invalid"
        text, nature = _message(answer)
        assert text == submission_message("invalid", submission.problems, again=repeated)
        assert submission.problems[0]["message"] in text and nature == "submit_success"
    assert _message(response)[0] != submission_message("applied")


def test_a_held_submission_is_answered_as_awaiting_a_reviewer(client, seeded, db):
    """SPEC §5: one ID twice in a submission holds it for a reviewer; the phone hears that it
    awaits review (审核), not 提交成功, with the conflict located (a member, a rule)."""
    twice = {**SPOUSE, "a7_id_number": HEAD["a7_id_number"]}

    response = client.submit(household_xml(seeded, [HEAD, twice]))

    assert response.status_code == 201
    held = db.scalar(select(Submission))
    assert held.state == "held"
    assert [p["code"] for p in held.problems] == ["CONFLICT_DUPLICATE_IN_SUBMISSION"]
    assert response.headers["X-Submission-State"] == "held"
    assert _message(response)[0] == submission_message("held", held.problems)
    assert held.problems[0]["message"] in _message(response)[0]  # the helper is told which
    assert submission_message("held") not in {submission_message("applied"),
                                              submission_message("received")}


def test_an_applied_submission_is_answered_as_a_success(client, seeded, db):
    """SPEC §5: a survey taken into the registry is answered with the success message."""
    response = client.submit(household_xml(seeded, [HEAD, SPOUSE, CHILD]))

    assert response.status_code == 201
    assert db.scalar(select(Submission.state)) == "applied"
    assert response.headers["X-Submission-State"] == "applied"
    assert _message(response) == (submission_message("applied"), "submit_success")


def test_the_message_lists_the_first_three_errors_and_counts_the_rest():
    """SPEC §6 (problems located for the reviewer): the phone's message names the first three
    errors of an invalid submission and how many more; warnings do not crowd errors out."""
    errors = [{"severity": "error", "code": f"E{n}", "message": f"msg-{n}"} for n in range(5)]
    warning = {"severity": "warning", "code": "W", "message": "warn-only"}

    text = submission_message("invalid", [warning, *errors])
    three = submission_message("invalid", errors[:3])

    assert all(f"msg-{n}" in text for n in range(3))
    assert "msg-3" not in text and "msg-4" not in text and "warn-only" not in text
    assert "2" in text.rsplit("msg-2", 1)[1]  # "and 2 more"
    assert three.rsplit("msg-2", 1)[1] == ""  # nothing more to count
    assert "warn-only" in submission_message("invalid", [warning])  # no error: the warnings
    states = ("applied", "invalid", "held", "received")
    assert len({submission_message(state, [warning]) for state in states}) == len(states)


# --- personal data in the phones' entity list (issue 11.14) -----------------------------------


def test_the_entity_list_masks_personal_data_by_the_one_rule(client, live_server, seeded, db):
    """SPEC §7 (one rule for the REST API and the phones' lists): a helper's households.csv shows
    the head's ID number masked; phones are in full for a helper of the household's village and
    masked for a helper bound to the wider township, as the REST API shows them."""
    response = client.submit(household_xml(seeded, [HEAD, SPOUSE], a55_contact_phone="13900001111"))
    assert response.headers["X-Submission-State"] == "applied"
    wide = add_user(db, "helper_township", Role.HELPER, TOWNSHIP)
    token = issue_token(db, wide)
    db.commit()

    [mine] = households_list(client)
    [township] = households_list(CollectClient(live_server, token))

    masked_id = HEAD["a7_id_number"][:6] + "********" + HEAD["a7_id_number"][-4:]
    assert mine["head_id_masked"] == township["head_id_masked"] == masked_id
    assert (mine["phone"], mine["a55_contact_phone"]) == ("13812345678", "13900001111")
    assert (township["phone"], township["a55_contact_phone"]) == ("138****5678", "139****1111")
    rest = Api(live_server, "helper").get(f"/households/{mine['name']}").json()
    assert (rest["head_id_number"], rest["phone"]) == (mine["head_id_masked"], mine["phone"])
