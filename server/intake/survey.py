"""Take in a household survey (the stage-one form, 附件2 + 附件1): validate it on the server
(SPEC §2–§4), decide against the registry (SPEC §5: ``server.domain.dedup.decide``) and write it
(``server.households.services.write_household``) or hold it for a reviewer."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.dedup.models import Conflict
from server.dedup.services import hold_submission
from server.domain.codes import YES
from server.domain.dedup import Claim, Incoming, Outcome, Registry, Resolution, decide
from server.domain.fields import ID_NUMBER
from server.domain.members import Severity
from server.domain.survey import Problem, Survey, read_survey
from server.households.models import Household, Person
from server.households.services import flag_likely_duplicates, household_area, write_household
from server.intake.common import figure, finish
from server.submissions.instance import InstanceValues
from server.submissions.models import Submission, SubmissionState

FORM_ID = "household"


def take_in_survey(session: Session, submission: Submission, values: InstanceValues,
                   today: date) -> str:
    """A household survey: validate, decide against the registry (SPEC §5), write or hold."""
    province = (values.household.get("addr_county") or "")[:2]
    line = figure(session, province, values, today)
    survey = read_survey(values.household, values.members, line, today)
    if any(m.deceased for m in survey.members):
        deaths = _deaths_on_record(session, survey)
        if deaths:
            survey = read_survey(values.household, values.members, line, today, deaths)
    if survey.errors:
        return finish(session, submission, SubmissionState.INVALID, survey.problems)
    people = [Incoming(m.index, m.id_number.value, m.name, m.is_head)
              for m in survey.members if m.id_number is not None]
    submitter_area = session.scalar(select(User.area_code).where(
        User.id == submission.submitter_id)) or ""
    claim = Claim(submitter_area, household_area(survey), _resurveyed(session, values))
    registry = _registry(session, people, claim.resurveys)
    decision = decide(people, claim, registry)
    notes: dict[tuple[str, str], str] = {}
    if decision.outcome is Outcome.CONFLICT:
        # Only a held submission that a reviewer resolved has authorisations: look them up
        # then (they can only turn conflicts into moves, never change a clean decision).
        notes, allowed = _authorisations(session, submission.id)
        if allowed:
            decision = decide(people, claim, registry, allowed)
    if decision.outcome is Outcome.CONFLICT:
        hold_submission(session, submission, decision)
        held = [Problem(Severity.ERROR, c.code, ID_NUMBER.code, c.params,
                        c.member_indexes[0] if len(c.member_indexes) == 1 else None)
                for c in decision.conflicts]
        return finish(session, submission, SubmissionState.HELD, survey.problems + held)
    household = write_household(session, submission, survey, decision, values.entity_id,
                                FORM_ID, notes)
    flag_likely_duplicates(session, [(submission.id, survey)], {})
    submission.household_id = household.id
    return finish(session, submission, SubmissionState.APPLIED, survey.problems)


def _deaths_on_record(session: Session, survey: Survey) -> frozenset[str]:
    """The roster's deceased whom the registry already holds as deceased (SPEC §2)."""
    ids = [m.id_number.value for m in survey.members if m.deceased and m.id_number]
    return frozenset(session.scalars(select(Person.id_number).where(
        Person.id_number.in_(ids), Person.deceased.is_(True))))


def _resurveyed(session: Session, values: InstanceValues) -> str | None:
    """The registered household a survey resurveys: the phone's entity when it is one (the
    form's ``resurvey`` = 是 updates the picked entity), else the form's pick; None: new."""
    for candidate in (values.entity_id,
                      values.household.get("household")
                      if values.household.get("resurvey") == YES else None):
        if candidate and session.get(Household, candidate) is not None:
            return candidate
    return None


def _registry(session: Session, people: list[Incoming], resurveys: str | None) -> Registry:
    """What the registry holds about the submission's people and the households involved."""
    known = dict(session.execute(select(Person.id_number, Person.household_id).where(
        Person.id_number.in_([p.id_number for p in people]),
        Person.household_id.is_not(None))).all())
    involved = set(known.values()) | ({resurveys} if resurveys else set())
    if not involved:  # a new household of new people: nothing more to look up
        return Registry(known)
    areas = dict(session.execute(select(Household.id, Household.area_code)
                                 .where(Household.id.in_(involved))).all())
    living: dict[str, set[str]] = {}
    for household_id, id_number in session.execute(
            select(Person.household_id, Person.id_number).where(
                Person.household_id.in_(involved), Person.deceased.is_(False))):
        living.setdefault(household_id, set()).add(id_number)
    return Registry(known, areas, {h: frozenset(ids) for h, ids in living.items()})


def _authorisations(session: Session, submission_id: int):
    """A reviewer's resolutions of the submission's earlier conflicts, by (kind, ID number),
    with their notes (the reason a person moved, said in the audit)."""
    notes: dict[tuple[str, str], str] = {}
    allowed: dict[tuple[str, str], Resolution] = {}
    for kind, id_number, resolution, note in session.execute(
            select(Conflict.kind, Conflict.id_number, Conflict.resolution, Conflict.note)
            .where(Conflict.submission_id == submission_id, Conflict.status == "resolved")
            .order_by(Conflict.id)):
        allowed[(kind, id_number)] = Resolution(resolution)
        notes[(kind, id_number)] = note or ""
    return notes, allowed
