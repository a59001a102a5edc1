"""The registry never loses people, never writes outside the submitter's area, never leaves a
take-in silently unfinished (SPEC §2, §5, §6; issue 11, points 1, 2, 4, 5 and 6).

Services on a real database (SQLite and PostgreSQL); the HTTP path is in tests/sync and
tests/api.
"""

from __future__ import annotations

from sqlalchemy import select, update

from media.memory import MemoryMediaStore
from server.audit.models import AuditEntry
from server.dedup.models import Conflict
from server.dedup.services import resolve_conflict
from server.domain.dedup import Resolution
from server.households.models import EliminationAssessment, Household, Person
from server.intake import take_in
from server.intake.worker import take_in_batch
from server.submissions.models import Submission
from server.submissions.services import ingest_submission
from tests.integration.conftest import user
from tests.integration.test_registry import (
    CHILD,
    HEAD,
    SPOUSE,
    TODAY,
    count,
    elimination_values,
    submit,
    submit_form,
)
from tests.support.collect import form_instance
from tests.support.households import address, id_number
from tests.support.seed import OTHER_TOWNSHIP, VILLAGE

FATHER = {"a5_name": "张老汉", "a7_id_number": id_number("430421", "19500505", 51),
          "a8_relation": "06", "a14_labour_skill": "05", "a17_basic_medical_insurance": "01"}
NEWBORN = {"a5_name": "张新", "a7_id_number": id_number("430421", "20200909", 62),
           "a8_relation": "03", "a14_labour_skill": "04", "a17_basic_medical_insurance": "01"}


def as_head(member: dict) -> dict:
    return {**member, "a8_relation": "01"}


def household_of(session, member: dict) -> str | None:
    return session.scalar(select(Person.household_id).where(
        Person.id_number == member["a7_id_number"]))


def audit(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                .order_by(AuditEntry.id)))


def register_family(session, helper, seeded):
    """Head A, spouse, child and A's father F: a 4-person household."""
    state, first = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD, FATHER])
    assert state == "applied", first.problems
    return first.household_id


# --- 1. nobody leaves a household silently (SPEC §5 as amended) ----------------------------------


def test_a_new_household_whose_head_is_registered_elsewhere_is_held_not_taken_over(
        session, helper, seeded):
    """SPEC §5: a *new* household (not a resurvey) whose people already belong to a registered
    household is held as a conflict naming them; the registered household keeps all four."""
    family = register_family(session, helper, seeded)

    state, held = submit(session, helper, seeded, [as_head(FATHER), NEWBORN])

    assert state == "held"
    [conflict] = session.scalars(select(Conflict)).all()
    assert conflict.kind == "already_registered"
    assert (conflict.id_number, conflict.households) == (FATHER["a7_id_number"], [family])
    assert [p["code"] for p in held.problems] == ["CONFLICT_ALREADY_REGISTERED"]
    for member in (HEAD, SPOUSE, CHILD, FATHER):
        assert household_of(session, member) == family
    assert session.get(Household, family).size == 4 and count(session, Household) == 1


def test_a_new_head_plus_one_known_member_detaches_nobody(session, helper, seeded):
    """SPEC §5: a survey with a new head and one known member does not update that member's
    household nor detach its former head."""
    family = register_family(session, helper, seeded)
    stranger = {**HEAD, "a5_name": "王五", "a7_id_number": id_number("430421", "19700707", 71)}

    state, _ = submit(session, helper, seeded, [stranger, SPOUSE])

    assert state == "held"
    assert household_of(session, HEAD) == family
    assert session.get(Person, session.get(Household, family).head_person_id).id_number == \
        HEAD["a7_id_number"]


def test_resolving_a_split_creates_the_new_household_and_the_audit_names_who_moved(
        session, helper, seeded):
    """SPEC §5: only a resolution moves people (分户: F heads a household of his own); the
    audit names each person moved, from where to where, with the reason."""
    family = register_family(session, helper, seeded)
    _, held = submit(session, helper, seeded, [as_head(FATHER), NEWBORN])
    conflict = session.scalar(select(Conflict))
    village = user(session, "village")

    resolve_conflict(session, conflict.id, Resolution.MOVED, village.id, "分户")
    session.commit()
    state = take_in(session, held.id, TODAY)
    session.commit()

    assert state == "applied"
    split = session.get(Submission, held.id).household_id
    assert split != family
    assert household_of(session, FATHER) == household_of(session, NEWBORN) == split
    assert {household_of(session, m) for m in (HEAD, SPOUSE, CHILD)} == {family}
    assert session.get(Household, family).size == 3
    [moved] = audit(session, "person.moved")
    assert moved.details["id_number"] == FATHER["a7_id_number"]
    assert (moved.details["from_household"], moved.details["to_household"]) == (family, split)
    assert moved.details["reason"] == "分户"


def test_a_resurvey_dropping_a_member_is_held_until_a_reviewer_records_why(
        session, helper, seeded):
    """SPEC §5: a resurvey whose roster drops registered members without a recorded reason is
    held; resolved as a move (with its reason) the member leaves, kept in the registry."""
    family = register_family(session, helper, seeded)

    state, held = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD], resurveys=family)

    assert state == "held"
    [conflict] = session.scalars(select(Conflict)).all()
    assert (conflict.kind, conflict.id_number) == ("members_left", FATHER["a7_id_number"])
    assert household_of(session, FATHER) == family

    resolve_conflict(session, conflict.id, Resolution.MOVED, user(session, "village").id,
                     "随次子轮流居住")
    session.commit()
    assert take_in(session, held.id, TODAY) == "applied"
    session.commit()

    assert household_of(session, FATHER) is None
    assert session.get(Household, family).size == 3
    [left] = audit(session, "person.left")
    assert (left.details["id_number"], left.details["reason"]) == (FATHER["a7_id_number"],
                                                                  "随次子轮流居住")


def test_a_move_needs_its_reason_and_an_id_twice_can_only_be_an_entry_error(
        session, helper, seeded):
    from server.errors import AppError

    family = register_family(session, helper, seeded)
    submit(session, helper, seeded, [HEAD, SPOUSE, CHILD], resurveys=family)
    dropped = session.scalar(select(Conflict.id))
    submit(session, helper, seeded, [HEAD, {**SPOUSE, "a7_id_number": HEAD["a7_id_number"]}])
    twice = session.scalar(select(Conflict.id).where(Conflict.kind == "duplicate_in_submission"))

    codes = []
    for conflict_id, resolution in ((dropped, Resolution.MOVED),
                                    (dropped, Resolution.SAME_HOUSEHOLD),
                                    (twice, Resolution.MOVED)):
        try:
            resolve_conflict(session, conflict_id, resolution, user(session, "village").id, "")
        except AppError as exc:
            codes.append(exc.code)

    assert codes == ["REASON_REQUIRED", "CONFLICT_RESOLUTION_NOT_APPLICABLE",
                     "CONFLICT_RESOLUTION_NOT_APPLICABLE"]


# --- 2. a submission is taken in only inside its submitter's area (SPEC §5) ----------------------

OTHER_VILLAGE = f"{OTHER_TOWNSHIP}200"  # 杉云村委会, another township of the county


def test_an_address_outside_the_helpers_area_is_held_for_the_area_covering_both(
        session, helper, seeded):
    """SPEC §5: an address outside the submitter's area holds the submission for a reviewer
    whose area covers both (here the county); nothing is written, and the helper is told."""
    state, held = submit(session, helper, seeded, [HEAD, SPOUSE], address(OTHER_VILLAGE))

    assert state == "held"
    [conflict] = session.scalars(select(Conflict)).all()
    assert (conflict.kind, conflict.area_code) == ("outside_area", VILLAGE[:6])
    assert "CONFLICT_OUTSIDE_AREA" in [p["code"] for p in held.problems]
    assert count(session, Household) == 0 and count(session, Person) == 0


def test_listing_another_areas_household_never_overwrites_it(session, helper, seeded):
    """SPEC §5: people who belong to a household outside the submitter's area hold the
    submission; the other area's names stay as they were."""
    from server.areas.models import Area
    from server.areas.services import add_groups

    add_groups(session, session.get(Area, OTHER_VILLAGE), ["第一村民小组"])
    township_helper = user(session, "helper_other")
    xml = form_instance("household", seeded.form_versions["household"],
                        {**_household_fields(OTHER_VILLAGE)}, [HEAD, SPOUSE])
    theirs = ingest_submission(session, MemoryMediaStore(), township_helper, xml, [])
    session.commit()
    assert take_in(session, theirs.submission_id, TODAY) == "applied"
    session.commit()

    renamed = {**HEAD, "a5_name": "冒名"}
    state, _ = submit(session, helper, seeded, [renamed, SPOUSE])

    assert state == "held"
    assert {c.area_code for c in session.scalars(select(Conflict))} == {VILLAGE[:6]}
    assert session.scalar(select(Person.name).where(
        Person.id_number == HEAD["a7_id_number"])) == HEAD["a5_name"]


def _household_fields(village: str) -> dict[str, str]:
    from tests.integration.test_registry import HOUSEHOLD

    return {**HOUSEHOLD, **address(village)}


# --- 4. a take-in that raises is never silently stuck (SPEC §5, DESIGN data flow) -----------------


def test_a_survey_without_figures_for_its_year_is_invalid_with_figure_missing(
        session, helper, seeded):
    """SPEC §3: the monitoring line is data per province and year; a visit in a year without
    one is a located problem (FIGURE_MISSING), reviewable, not an exception."""
    state, submission = submit(session, helper, seeded, [HEAD, SPOUSE],
                               {"visit_date": "2020-06-01"})

    assert state == "invalid"
    assert "FIGURE_MISSING" in [p["code"] for p in submission.problems]


def test_a_take_in_that_raises_is_failed_with_its_error_and_the_queue_goes_on(
        session, helper, seeded):
    """A submission whose take-in raises is marked failed with the error kept (review queue),
    and the submissions behind it are still taken in."""
    from server.submissions.queries import submissions_query

    ids = []
    for members in ([HEAD, SPOUSE], [as_head(FATHER)]):
        xml = form_instance("household", seeded.form_versions["household"],
                            _household_fields(VILLAGE), members)
        ids.append(ingest_submission(session, MemoryMediaStore(), helper, xml, []).submission_id)
    session.commit()
    # Stored XML that no longer parses: a fault the take-in cannot foresee.
    session.execute(update(Submission).where(Submission.id == ids[0]).values(xml="<data"))
    session.commit()

    report = take_in_batch(session, 10)
    session.commit()

    assert report.states == {"failed": 1, "applied": 1} and report.failed == []
    failed = session.get(Submission, ids[0])
    assert failed.state == "failed"
    assert [p["code"] for p in failed.problems] == ["TAKE_IN_FAILED"]
    reviewable = submissions_query(user(session, "village"), {"reviewable": True})
    assert failed.id in [row[0].id for row in session.execute(reviewable)]


# --- 5. the deceased count only in the survey that records the death (SPEC §2) -------------------


def test_a_death_recorded_earlier_is_not_counted_in_later_surveys(session, helper, seeded):
    """SPEC §2: a deceased member counts in the household size of the survey that records the
    death and not after it."""
    died = {**FATHER, "deceased": "01", "death_date": "2021-03-01"}
    _, first = submit(session, helper, seeded, [HEAD, SPOUSE, died])
    family = first.household_id
    assert session.get(Household, family).size == 3

    state, second = submit(session, helper, seeded, [HEAD, SPOUSE, died], resurveys=family)

    assert state == "applied", second.problems
    household = session.get(Household, family)
    assert household.size == 2
    assert str(household.latest_survey.a34_net_income_per_capita) == "7750.00"  # 15500 / 2


# --- 6. the elimination floor cannot be bypassed by the form's size (SPEC §3, §6) ---------------


def test_the_elimination_size_is_the_registrys_not_the_forms(session, helper, seeded):
    """SPEC §6: A34 below the floor blocks elimination; the server computes the size and
    A33–A38 from the registry's roster, keeps the phone's size and flags the difference."""
    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD])
    # A33 = 12000: 4000 a head for the registry's 3 (below the 5000 floor), 6000 for the form's 2
    values = elimination_values(survey.household_id, household_size="2", a28_wages="12000",
                                a29_business_income="0", a31_transfer_income="0",
                                a32_business_expenses="0")

    state, submission = submit_form(session, helper, seeded, "elimination", values)

    assert state == "applied"
    assessment = session.scalar(select(EliminationAssessment))
    assert assessment.size == 3 and str(assessment.a34_net_income_per_capita) == "4000.00"
    assert assessment.eligible is False
    assert assessment.phone_differs["household_size"] == ["2", "3"]
    codes = [p["code"] for p in submission.problems]
    assert "ELIMINATION_BELOW_FLOOR" in codes and "PHONE_DIFFERS" in codes


def test_people_registered_between_the_decision_and_the_write_are_decided_again(
        session, helper, seeded, monkeypatch):
    """SPEC §5 under concurrency: another take-in may register the people after this one
    decided and before it writes. The write notices (``RegistryChanged``), the savepoint rolls
    back and the decision is taken again against the registry as it is — the submission is
    held for a reviewer, not ``failed`` and never attached by force. The stale decision is made
    here by deciding the first time against an empty registry: what a concurrent take-in that
    committed in between looks like to this one."""
    from dataclasses import replace

    import server.intake.survey as survey_intake

    first, _ = submit(session, helper, seeded, [HEAD, SPOUSE])
    assert first == "applied"
    real_decide, calls = survey_intake.decide, []

    def decide_once_on_a_stale_registry(people, claim, registry, *allowed):
        calls.append(registry)
        if len(calls) == 1:
            registry = replace(registry, households_of={}, areas={}, living={})
        return real_decide(people, claim, registry, *allowed)

    monkeypatch.setattr(survey_intake, "decide", decide_once_on_a_stale_registry)
    state, submission = submit(session, helper, seeded, [HEAD, SPOUSE])

    assert len(calls) >= 2  # decided again after the write found the people registered
    assert state == "held", submission.problems
    assert {p["code"] for p in submission.problems} == {"CONFLICT_ALREADY_REGISTERED"}
