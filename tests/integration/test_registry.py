"""Taking submissions into the household registry: validate, dedup by ID number, write (issue 5).

Services are called on a real database (SQLite and PostgreSQL); the HTTP path is in tests/sync.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from media.memory import MemoryMediaStore
from server.auth import Principal
from server.dedup.models import Conflict, DuplicateFlag
from server.domain.idnumber import check_character
from server.households.models import Household, Person, SurveyVersion
from server.intake import take_in
from server.submissions.models import Submission
from server.submissions.services import ingest_submission
from tests.support.collect import form_instance
from tests.support.households import CHILD, HEAD, SPOUSE, SURVEY_FIELDS, address, id_number
from tests.support.seed import VILLAGE

TODAY = date(2026, 11, 24)
HOUSEHOLD = {**SURVEY_FIELDS, **address(VILLAGE), "phone": "13812345678"}


def submit(session, helper, seeded, members, household=None, instance_id=None, entity_id=None,
           resurveys=None):
    """A household survey taken in; ``resurveys`` makes it the form's resurvey of that household
    (``resurvey`` = 是, the household picked, the entity updated), else a new household."""
    if resurveys:
        household = {"resurvey": "01", "household": resurveys, **(household or {})}
        entity_id = resurveys
    xml = form_instance("household", seeded.form_versions["household"],
                        {**HOUSEHOLD, **(household or {})}, members, instance_id, entity_id)
    result = ingest_submission(session, MemoryMediaStore(), helper, xml, [])
    session.commit()
    state = take_in(session, result.submission_id, TODAY)
    session.commit()
    return state, session.get(Submission, result.submission_id)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_new_household_is_created_with_its_people_and_a_survey(session, helper, seeded):
    state, submission = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD])

    assert state == "applied", submission.problems
    household = session.get(Household, submission.household_id)
    head = session.get(Person, household.head_person_id)
    assert head.id_number == HEAD["a7_id_number"] and head.sex == "1"
    assert household.size == 3 and household.area_code == f"{VILLAGE}001"
    survey = session.get(SurveyVersion, household.latest_survey_id)
    assert survey.submission_id == submission.id and survey.number == 1
    assert str(survey.a33_net_income) == "15500.00"
    assert survey.a26_member_uninsured is True
    assert survey.proposed_type == "02"
    assert count(session, Person) == 3


def test_the_same_household_again_updates_it_and_keeps_history(session, helper, seeded):
    _, first = submit(session, helper, seeded, [HEAD, SPOUSE])
    state, second = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD],
                           {"a28_wages": "20000"}, resurveys=first.household_id)

    assert state == "applied"
    assert count(session, Household) == 1
    household = session.get(Household, second.household_id)
    assert household.size == 3
    numbers = session.scalars(select(SurveyVersion.number)
                              .where(SurveyVersion.household_id == household.id)).all()
    assert sorted(numbers) == [1, 2]
    child = session.scalar(select(Person).where(Person.id_number == CHILD["a7_id_number"]))
    assert child.created_by_submission_id == second.id


OTHER_HEAD = {**HEAD, "a5_name": "王五", "a7_id_number": id_number("430421", "19700707", 71)}


def test_people_from_two_households_in_one_submission_hold_it(session, helper, seeded):
    """SPEC §5: a person found in two different households is a conflict; nothing overwritten."""
    _, first = submit(session, helper, seeded, [HEAD, SPOUSE])
    _, second = submit(session, helper, seeded, [OTHER_HEAD, CHILD])

    state, held = submit(session, helper, seeded, [HEAD, SPOUSE, {**CHILD, "a8_relation": "03"}],
                         resurveys=first.household_id)

    assert state == "held"
    [conflict] = session.scalars(select(Conflict)).all()
    assert conflict.kind == "multiple_households"
    assert conflict.id_number == CHILD["a7_id_number"]
    assert sorted(conflict.households) == sorted([first.household_id, second.household_id])
    child = session.scalar(select(Person).where(Person.id_number == CHILD["a7_id_number"]))
    assert child.household_id == second.household_id
    assert count(session, SurveyVersion) == 2


def test_one_id_twice_in_a_submission_is_held(session, helper, seeded):
    state, _ = submit(session, helper, seeded, [HEAD, {**SPOUSE, "a7_id_number":
                                                      HEAD["a7_id_number"]}])

    assert state == "held"
    assert session.scalar(select(Conflict.kind)) == "duplicate_in_submission"
    assert count(session, Person) == 0


def test_a_submission_failing_validation_is_kept_with_located_errors(session, helper, seeded):
    bad = {**SPOUSE, "a7_id_number": SPOUSE["a7_id_number"][:17] + "0"}

    state, submission = submit(session, helper, seeded, [HEAD, bad], {"a28_wages": "-1"})

    assert state == "invalid"
    codes = {(p["code"], p["field"], p["member"]) for p in submission.problems}
    assert ("ID_CHECKSUM", "A7", 2) in codes and ("FIELD_INVALID", "A28", None) in codes
    assert all(p["message"] for p in submission.problems)
    assert count(session, Household) == 0


def test_likely_duplicates_are_flagged_not_merged(session, helper, seeded):
    submit(session, helper, seeded, [HEAD, SPOUSE])
    near = "43042219800101011"  # the head's first 17 digits but one
    twin = {**HEAD, "a7_id_number": near + check_character(near)}

    state, _ = submit(session, helper, seeded, [twin])

    assert state == "applied"
    assert count(session, Household) == 2
    flag = session.scalar(select(DuplicateFlag))
    assert {flag.id_number_a, flag.id_number_b} == {HEAD["a7_id_number"], twin["a7_id_number"]}
    assert flag.status == "open"


def test_the_phones_entity_id_becomes_the_household_id(session, helper, seeded):
    entity = "6f1c1a47-1f73-4c44-9d5a-2f0b6d4a8a11"

    _, submission = submit(session, helper, seeded, [HEAD], entity_id=entity)

    assert submission.household_id == entity


def test_a_not_the_same_person_verdict_is_remembered_by_the_recheck(session, helper, seeded):
    """Issue 5: a reviewer's "not the same person" is remembered; the pair is not flagged again."""
    from server.dedup.services import judge_duplicate, recheck_registry

    submit(session, helper, seeded, [HEAD, SPOUSE])
    near = "43042219800101011"
    submit(session, helper, seeded, [{**HEAD, "a7_id_number": near + check_character(near)}])
    flag = session.scalar(select(DuplicateFlag))
    judge_duplicate(session, flag.id, same_person=False, user=helper)
    session.commit()

    report = recheck_registry(session)

    assert (report.people, report.groups, report.new_flags) == (3, 1, 0)
    assert session.scalar(select(DuplicateFlag.status)) == "not_same"


def test_the_recheck_finds_pairs_missed_at_ingest(session, helper, seeded):
    near = "43042219800101011"
    submit(session, helper, seeded, [HEAD, SPOUSE])
    submit(session, helper, seeded, [{**HEAD, "a7_id_number": near + check_character(near)}])
    session.execute(DuplicateFlag.__table__.delete())
    session.commit()
    from server.dedup.services import recheck_registry

    assert recheck_registry(session).new_flags == 1


def test_resolving_a_conflict_as_a_move_takes_the_submission_in(session, helper, seeded):
    """SPEC §5: a reviewer resolves: a real move between households moves the person."""
    from server.dedup.services import resolve_conflict
    from server.domain.dedup import Resolution

    _, first = submit(session, helper, seeded, [HEAD, SPOUSE])
    _, second = submit(session, helper, seeded, [OTHER_HEAD, CHILD])
    _, held = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD],
                     resurveys=first.household_id)
    conflict = session.scalar(select(Conflict))

    resolve_conflict(session, conflict.id, Resolution.MOVED, helper.id, "随母迁入")
    session.commit()
    state = take_in(session, held.id, TODAY)
    session.commit()

    assert state == "applied"
    child = session.scalar(select(Person).where(Person.id_number == CHILD["a7_id_number"]))
    assert child.household_id == first.household_id
    assert session.get(Household, second.household_id).size == 1  # the household it left


def test_an_entry_error_rejects_the_held_submission(session, helper, seeded):
    from server.dedup.services import resolve_conflict
    from server.domain.dedup import Resolution

    _, first = submit(session, helper, seeded, [HEAD, SPOUSE])
    submit(session, helper, seeded, [OTHER_HEAD, CHILD])
    _, held = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD],
                     resurveys=first.household_id)

    submission = resolve_conflict(session, session.scalar(select(Conflict.id)),
                                  Resolution.ENTRY_ERROR, helper.id)
    session.commit()

    assert submission.state == "rejected"
    assert take_in(session, held.id, TODAY) == "rejected"


def submit_form(session, user, seeded, form_id, values, members=()):
    xml = form_instance(form_id, seeded.form_versions[form_id], values, list(members))
    result = ingest_submission(session, MemoryMediaStore(), user, xml, [])
    session.commit()
    state = take_in(session, result.submission_id, TODAY)
    session.commit()
    return state, session.get(Submission, result.submission_id)


MEASURES = {"measure_date": "2021-06-01", "green_channel": "02", "a39_industry": "01 03",
            "a39_effect": "发展养殖，年增收3000元", "a48_social_protection": "01"}
STANDARDS_MET = {"std_measures_carried_out": "01", "std_basic_needs_secured": "01",
                 "std_income_stable": "01", "std_rigid_expenses_resolved": "01"}


def elimination_values(household_id, **overrides):
    return {"household": household_id, "visit_date": "2022-06-01", "household_size": "3",
            "a28_wages": "30000", "a29_business_income": "3000", "a30_property_income": "0",
            "a31_transfer_income": "1500", "a32_business_expenses": "1000",
            "a35_insurance_claims": "0", "a36_compliant_out_of_pocket": "0",
            "a53_elimination_method": "01", **STANDARDS_MET, **overrides}


def test_measures_are_recorded_for_the_picked_household(session, helper, seeded):
    """Issue 5: ingest writes the measures (stage two)."""
    from server.households.models import MeasureRecord

    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE])

    state, submission = submit_form(session, helper, seeded, "measures",
                                    {"household": survey.household_id, **MEASURES})

    assert state == "applied", submission.problems
    record = session.scalar(select(MeasureRecord))
    assert record.household_id == survey.household_id and not record.green_channel
    assert record.values["a39_industry"] == "01 03"


def test_measures_for_a_household_outside_the_helpers_area_are_refused(session, helper,
                                                                      seeded):
    from server.accounts.models import User

    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE])
    other = Principal.of(session.scalar(select(User).where(User.username == "helper_other")))

    state, submission = submit_form(session, other, seeded, "measures",
                                    {"household": survey.household_id, **MEASURES})

    assert state == "invalid"
    assert [p["code"] for p in submission.problems] == ["HOUSEHOLD_UNKNOWN"]


def test_an_empty_measures_record_is_invalid(session, helper, seeded):
    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE])

    state, submission = submit_form(session, helper, seeded, "measures",
                                    {"household": survey.household_id, "green_channel": "02"})

    assert state == "invalid" and submission.problems[0]["code"] == "MEASURES_EMPTY"


def test_an_elimination_assessment_meeting_the_rules_is_eligible(session, helper, seeded):
    """Issue 5: ingest writes the elimination data (stage three), recomputing A33–A38."""
    from server.households.models import EliminationAssessment

    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD])

    state, submission = submit_form(session, helper, seeded, "elimination",
                                    elimination_values(survey.household_id))

    assert state == "applied", submission.problems
    assessment = session.scalar(select(EliminationAssessment))
    assert assessment.eligible and str(assessment.a34_net_income_per_capita) == "11166.67"


@pytest.mark.parametrize("overrides,code", [
    ({"a28_wages": "10000"}, "ELIMINATION_BELOW_FLOOR"),
    ({"std_income_stable": "02"}, "ELIMINATION_STANDARDS"),
])
def test_an_assessment_a_rule_blocks_is_kept_but_not_eligible(session, helper, seeded,
                                                              overrides, code):
    from server.households.models import EliminationAssessment

    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD])

    _, submission = submit_form(session, helper, seeded, "elimination",
                                elimination_values(survey.household_id, **overrides))

    assert code in [p["code"] for p in submission.problems]
    assert session.scalar(select(EliminationAssessment.eligible)) is False


def test_a_declaration_is_linked_to_the_household_of_its_head(session, helper, seeded):
    from server.households.models import Declaration

    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE])

    state, submission = submit_form(session, helper, seeded, "declaration", {
        "decl_date": "2021-04-01", "decl_channel": "01", "decl_on_behalf": "02",
        "decl_head_name": "张三", "decl_head_id_number": HEAD["a7_id_number"],
        "addr_county": VILLAGE[:6], "addr_township": VILLAGE[:9], "addr_village": VILLAGE,
        "addr_group": f"{VILLAGE}001", "phone": "13812345678", "decl_household_size": "2",
        "decl_risks": "6", "decl_description": "户主患病住院"})

    assert state == "applied", submission.problems
    declaration = session.scalar(select(Declaration))
    assert declaration.household_id == survey.household_id
    assert declaration.area_code == f"{VILLAGE}001"


def test_a_supervisor_corrects_an_invalid_submission_and_it_is_taken_in(session, helper,
                                                                        seeded):
    """Issue 5: a submission failing validation shows up for the supervisor to correct."""
    from server.submissions.queries import submissions_query
    from server.submissions.review import correct_submission
    from tests.integration.conftest import user

    def review_queue(username):
        query = submissions_query(user(session, username), {"reviewable": True})
        return [row[0].id for row in session.execute(query)]

    bad = {**SPOUSE, "a7_id_number": SPOUSE["a7_id_number"][:17] + "0"}
    _, submission = submit(session, helper, seeded, [HEAD, bad])

    assert review_queue("township") == [submission.id]
    assert review_queue("helper_other") == []  # another township's
    correct_submission(session, submission.id, helper.id, VILLAGE[:9],
                       {"members[2]/a7_id_number": SPOUSE["a7_id_number"]}, "核对身份证后更正")
    session.commit()
    state = take_in(session, submission.id, TODAY)
    session.commit()

    assert state == "applied"
    assert session.scalar(select(Person.id).where(
        Person.id_number == SPOUSE["a7_id_number"])) is not None
    assert submission.xml.count(SPOUSE["a7_id_number"][:17] + "0") == 1  # XML untouched


def test_a_supervisor_rejects_with_a_reason_and_only_in_their_area(session, helper, seeded):
    from server.errors import AppError
    from server.submissions.review import reject_submission

    _, submission = submit(session, helper, seeded, [HEAD], {"a28_wages": "-1"})

    with pytest.raises(AppError) as empty:
        reject_submission(session, submission.id, helper.id, VILLAGE[:9], "  ")
    with pytest.raises(AppError) as elsewhere:
        reject_submission(session, submission.id, helper.id, "430421201", "重复录入")
    rejected = reject_submission(session, submission.id, helper.id, VILLAGE[:9], "重复录入")

    assert (empty.value.code, elsewhere.value.code) == ("REASON_REQUIRED", "NOT_FOUND")
    assert rejected.state == "rejected" and rejected.review_note == "重复录入"
