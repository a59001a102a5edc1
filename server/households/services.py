"""Use cases of the registry itself: write a survey into its household (people moved in or
leaving only as a reviewer's resolution allows, each named in the audit log), keep the survey
version, flag likely duplicates. Taking a submission in is ``server.intake``; these are the
registry writes it ends with.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.db import among_rows, insert_ignoring_conflicts
from server.declarations.services import attach_declared_household
from server.dedup.models import DuplicateFlag
from server.domain.dedup import ConflictKind, Decision, Outcome, PersonKey, likely_same, pair
from server.domain.fields import MONITORING_TYPE
from server.domain.money import CENT
from server.domain.notices import numbered_risks
from server.domain.survey import Survey
from server.households.models import Household, Person, SurveyVersion, risk_text
from server.submissions.models import Submission


@dataclass(frozen=True)
class Registered:
    """A person the registry holds, as the batch read them."""

    id: int
    household_id: str | None
    name: str | None = None
    birth_date: object = None


class RegistryChanged(Exception):
    """The registry changed between the dedup decision and its write (a concurrent take-in
    registered one of the people meanwhile): the caller decides again, never writes."""


def write_household(session: Session, submission: Submission, survey: Survey,
                    decision: Decision, entity_id: str | None, form_id: str,
                    notes: dict[tuple[str, str], str]) -> Household:
    """Write the survey into its household. People change household only as the decision says
    (a reviewer's resolution): each one moved in or leaving is named in the audit log."""
    created = decision.outcome is Outcome.CREATE
    if created:  # its id is made here, so nothing needs flushing before the people
        household = Household(id=new_household_id(session, entity_id),
                              area_code=household_area(survey),
                              created_by_submission_id=submission.id)
        session.add(household)
    else:
        household = session.get(Household, decision.household_id, with_for_update=True)
    for name, value in household_values(survey, household.area_code, household.phone,
                                        household.monitoring_type).items():
        setattr(household, name, value)
    household.updated_by_submission_id = submission.id
    household.updated_at = func.now()
    current = {p.id_number: p for p in session.scalars(
        select(Person).where(Person.id_number.in_(
            [m.id_number.value for m in survey.members if m.id_number])))}
    moving = {move.id_number: move.from_household for move in decision.moves_in}
    sources = _release_heads(session, [current[i] for i in moving if i in current])
    listed: dict[str, Person] = {}
    for member in survey.members:
        person = current.get(member.id_number.value)
        if person is None:
            person = Person(id_number=member.id_number.value,
                            created_by_submission_id=submission.id)
            session.add(person)
        elif person.household_id not in (None, household.id) and \
                person.id_number not in moving:
            raise RegistryChanged(f"{person.id_number} is now in household "
                                  f"{person.household_id}, not as decided")
        for name, value in person_values(member).items():
            setattr(person, name, value)
        person.household_id = household.id
        person.updated_by_submission_id = submission.id
        listed[member.id_number.value] = person
    leaving = session.scalars(select(Person).where(
        Person.id_number.in_(decision.leaving))).all() if decision.leaving else []
    for person in leaving:  # a reviewer said they left: kept in the registry, detached
        person.household_id = None
        person.updated_by_submission_id = submission.id
    session.flush()
    household.head_person_id = listed[survey.head.id_number.value].id
    version = _survey_version(session, household, submission, survey, form_id, created)
    household.latest_survey_id = version.id
    _recount(session, sources)
    session.flush()
    record(session, "household.created" if created else "household.updated", "household",
           household.id, None, submission_id=submission.id, survey=version.number,
           members=len(listed))
    for id_number, source in moving.items():
        note = notes.get((ConflictKind.MULTIPLE_HOUSEHOLDS.value, id_number)) or notes.get(
            (ConflictKind.ALREADY_REGISTERED.value, id_number), "")
        record(session, "person.moved", "person", listed[id_number].id, None,
               id_number=id_number, from_household=source, to_household=household.id,
               submission_id=submission.id, reason=note or None)
    for person in leaving:
        record(session, "person.left", "person", person.id, None, id_number=person.id_number,
               from_household=household.id, submission_id=submission.id,
               reason=notes.get((ConflictKind.MEMBERS_LEFT.value, person.id_number)) or None)
    attach_declared_household(session, household.id, listed)
    return household


def _release_heads(session: Session, movers: list[Person]) -> list[Household]:
    """The households people move out of; a household whose head moves out has no head until
    it is surveyed again (its head is whoever its next roster names)."""
    sources = list(session.scalars(select(Household).where(
        Household.id.in_({p.household_id for p in movers})))) if movers else []
    heads = {p.id for p in movers}
    for source in sources:
        if source.head_person_id in heads:
            source.head_person_id = None
    if sources:
        session.flush()
    return sources


def _recount(session: Session, households: list[Household]) -> None:
    """A household people moved out of: its size is its living members now."""
    for household in households:
        household.size = session.scalar(select(func.count()).select_from(Person).where(
            Person.household_id == household.id, Person.deceased.is_(False)))
        household.updated_at = func.now()


def new_household_id(session: Session, entity_id: str | None) -> str:
    """The phone's offline entity id becomes the household's id, so its list stays valid."""
    if entity_id:
        try:
            candidate = str(uuid.UUID(entity_id.removeprefix("uuid:")))
        except ValueError:
            candidate = None
        if candidate and session.get(Household, candidate) is None:
            return candidate
    return str(uuid.uuid4())


def household_area(survey: Survey) -> str:
    for name in ("addr_group", "addr_village", "addr_township", "addr_county"):
        value = survey.household.get(name)
        if value:
            return str(value)
    return ""


def _survey_version(session: Session, household: Household, submission: Submission,
                    survey: Survey, form_id: str, first: bool) -> SurveyVersion:
    number = 1 if first else (session.scalar(select(func.max(SurveyVersion.number)).where(
        SurveyVersion.household_id == household.id)) or 0) + 1
    version = SurveyVersion(household_id=household.id, number=number,
                            submission_id=submission.id, **survey_version_values(survey, form_id))
    session.add(version)
    session.flush()
    return version


# What a survey writes, as column values: one builder each for the household, a member and the
# survey version, shared by this module's write and the batch's (``server.households.bulk``).

def household_values(survey: Survey, area_code: str | None, phone: str | None,
                     monitoring_type: str | None) -> dict[str, object]:
    """The household's columns a survey sets, over what it held (None for a new one)."""
    return {
        "area_code": household_area(survey) or area_code,
        "phone": str(survey.household.get("phone") or phone or "") or None,
        "size": survey.size,
        "monitoring_type": survey.household.get(MONITORING_TYPE.name, monitoring_type),
        "numbered_risks": risk_text(survey_risks(survey)),
    }


def person_values(member) -> dict[str, object]:
    """A roster member's columns in the registry (``household_id`` is the writer's)."""
    return {
        "name": member.name,
        "relation": member.relation,
        "sex": member.id_number.sex.value,
        "birth_date": member.id_number.birth_date,
        "deceased": member.deceased,
        "death_date": member.values.get("death_date"),
        "disability_card": (member.id_number.card_number
                            if member.id_number.disability_category else None),
    }


def survey_version_values(survey: Survey, form_id: str) -> dict[str, object]:
    """A survey version's columns but its household, number and submission."""
    derived = survey.derived
    return dict(
        form_id=form_id, visit_date=survey.visit_date,
        household_values={k: plain(v) for k, v in survey.household.items()},
        member_values=[{k: plain(v) for k, v in m.values.items()} for m in survey.members],
        size=survey.size, a26_member_uninsured=survey.a26_member_uninsured,
        a33_net_income=derived.a33_net_income if derived else None,
        a34_net_income_per_capita=cents(derived.a34_net_income_per_capita) if derived else None,
        a37_income_reference=derived.a37_income_reference if derived else None,
        a38_income_reference_per_capita=(cents(derived.a38_income_reference_per_capita)
                                         if derived else None),
        proposed_type=(survey.proposal.monitoring_type.value
                       if survey.proposal and survey.proposal.monitoring_type else None),
        phone_differs={k: list(v) for k, v in survey.phone_differs.items()},
        warnings=[{"severity": p.severity.value, "code": p.code, "field": p.field,
                   "message": p.message, "member": p.member} for p in survey.warnings],
    )


def survey_risks(survey: Survey) -> tuple[str, ...]:
    """The numbered risks ①–⑭ the survey shows (``domain.notices.numbered_risks``; ① by the
    monitoring line of its year), from its values as they are stored."""
    derived = survey.derived
    return numbered_risks(
        {k: plain(v) for k, v in survey.household.items()},
        member_uninsured=survey.a26_member_uninsured,
        below_line=derived is not None and survey.line is not None
        and derived.a34_net_income_per_capita < survey.line)


def cents(value):
    return value.quantize(CENT)


def plain(value) -> object:
    if hasattr(value, "card_number"):
        return value.card_number
    if isinstance(value, tuple):
        return " ".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def flag_likely_duplicates(session: Session, rosters: list[tuple[int, Survey]],
                           registered: Mapping[str, Registered]) -> None:
    """Flag each member of the rosters (submission id, survey; written already) against people
    of the same name and birth date (index-backed; one query for them all), as if each roster
    had been written and flagged in turn: for the roster at position i, a person a later roster
    writes is not there yet if new, and still has the name it had if registered
    (``registered``: as the batch read them; nothing for a roster of one)."""
    written: dict[str, int] = {}  # ID number -> position of the roster that writes them
    members: dict[tuple[str, object], list[tuple[int, PersonKey]]] = {}
    for index, (_submission_id, survey) in enumerate(rosters):
        for m in survey.members:
            if m.id_number is None:
                continue
            written.setdefault(m.id_number.value, index)
            members.setdefault((m.name, m.id_number.birth_date), []).append(
                (index, PersonKey(m.id_number.value, m.name)))
    if not members:
        return
    seen: list[tuple[int, PersonKey, PersonKey]] = []  # (position, me, other) as they were then
    for other in session.execute(select(Person.id_number, Person.name, Person.birth_date).where(
            among_rows(session, (Person.name, Person.birth_date), members))).all():
        for index, me in members[(other.name, other.birth_date)]:
            if written.get(other.id_number, -1) <= index:  # as they are now, also at ``index``
                seen.append((index, me, PersonKey(other.id_number, other.name)))
    for id_number, later in written.items():  # registered, rewritten by a later roster: as they
        person = registered.get(id_number)  # were for the rosters before it
        if person is None or person.name is None:
            continue
        for index, me in members.get((person.name, person.birth_date), []):
            if index < later:
                seen.append((index, me, PersonKey(id_number, person.name)))
    flags = []
    for index, me, other in seen:
        if other.id_number != me.id_number and likely_same(me, other):
            a, b = pair(me.id_number, other.id_number)
            flags.append({"id_number_a": a, "id_number_b": b,
                          "submission_id": rosters[index][0], "status": "open"})
    if flags:  # in the order they would have come, so the first submission to see a pair has it
        flags.sort(key=lambda flag: flag["submission_id"])
        session.connection().execute(insert_ignoring_conflicts(session, DuplicateFlag), flags)
