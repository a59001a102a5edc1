"""The household surveys of a batch, decided together: what the registry holds about all their
people is read once (``Snapshot``), each survey is validated and decided against it in Python
(``plan``), and the everyday ones are written together (``server.households.bulk``).

``server.intake.dispatch.take_in_many`` walks a batch in submission order and cuts it into runs
of surveys that can be written together: a run ends at a survey that shares a person or a
household with one before it in the run (so that the second is decided against the registry
the first left, as one at a time would), and at one that needs the one-at-a-time take-in — a
conflict to hold (with a reviewer's authorisations to look up), a move, a declaration waiting
for its household, any other form.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import among
from server.domain.codes import YES
from server.domain.dedup import Claim, Incoming, Outcome, Registry, decide
from server.domain.survey import Problem, Survey, read_survey
from server.households.bulk import SurveyWrite
from server.households.models import Declaration, Household, Person
from server.households.services import Registered, household_area
from server.intake.common import visit_year
from server.submissions.instance import InstanceValues

FORM_ID = "household"


@dataclass
class SurveyItem:
    """A received household survey of the batch, read once."""

    submission_id: int
    values: InstanceValues
    submitter_area: str
    survey: Survey  # as read without deaths on record (``plan`` reads it again when needed)
    household_id: str | None = None  # the submission's, as stored (kept when it is invalid)

    @property
    def id_numbers(self) -> list[str]:
        return [m.id_number.value for m in self.survey.members if m.id_number is not None]

    @property
    def candidates(self) -> list[str]:
        """The household ids the survey may name: its entity, the household it picked."""
        values = self.values
        return [c for c in (values.entity_id, values.household.get("household")
                            if values.household.get("resurvey") == YES else None) if c]

    @property
    def entity_uuid(self) -> str | None:
        """The phone's offline entity id as a household id (``new_household_id``)."""
        if not self.values.entity_id:
            return None
        try:
            return str(uuid.UUID(self.values.entity_id.removeprefix("uuid:")))
        except ValueError:
            return None


def read_item(submission_id: int, values: InstanceValues, submitter_area: str,
              household_id: str | None, today: date,
              line_of: Callable[[str, int], object]) -> SurveyItem:
    """Validate a survey as ``take_in_survey`` does (the monitoring line of its province and
    visit year from ``line_of``, cached by the caller)."""
    province = (values.household.get("addr_county") or "")[:2]
    line = line_of(province, visit_year(values, today))
    return SurveyItem(submission_id, values, submitter_area,
                      read_survey(values.household, values.members, line, today), household_id)


@dataclass
class Snapshot:
    """What the registry holds about a run's people and the households they name, read in four
    statements (people locked on PostgreSQL until the batch commits)."""

    people: dict[str, Registered] = field(default_factory=dict)  # by ID number
    deceased: frozenset[str] = frozenset()
    areas: dict[str, str] = field(default_factory=dict)  # household -> area code
    living: dict[str, frozenset[str]] = field(default_factory=dict)
    declared: frozenset[str] = frozenset()  # heads whose declaration waits for a household

    @classmethod
    def read(cls, session: Session, items: list[SurveyItem]) -> Snapshot:
        ids = sorted({i for item in items for i in item.id_numbers})
        named = {h for item in items for h in (*item.candidates, item.entity_uuid) if h}
        query = (select(Person.id, Person.id_number, Person.household_id, Person.deceased,
                        Person.name, Person.birth_date)
                 .where(among(session, Person.id_number, ids)).order_by(Person.id_number))
        if session.get_bind().dialect.name == "postgresql":
            # Households first, then people, each in key order: the order in which the
            # one-at-a-time write takes them (the household it resurveys, then its people), so
            # that the two never wait for each other in a circle.
            if named:
                session.execute(select(Household.id)
                                .where(among(session, Household.id, sorted(named)))
                                .order_by(Household.id).with_for_update()).all()
            query = query.with_for_update()
        rows = session.execute(query).all() if ids else []
        people = {r.id_number: Registered(r.id, r.household_id, r.name, r.birth_date)
                  for r in rows}
        involved = {p.household_id for p in people.values() if p.household_id} | named
        areas = dict(session.execute(select(Household.id, Household.area_code)
                                     .where(among(session, Household.id, involved))).all()) \
            if involved else {}
        living: dict[str, set[str]] = {}
        if areas:
            for household_id, id_number in session.execute(
                    select(Person.household_id, Person.id_number).where(
                        among(session, Person.household_id, areas), Person.deceased.is_(False))):
                living.setdefault(household_id, set()).add(id_number)
        declared = frozenset(session.scalars(select(Declaration.head_id_number).where(
            among(session, Declaration.head_id_number, ids), Declaration.household_id.is_(None),
            Declaration.case_id.is_not(None)))) if ids else frozenset()
        return cls(people, frozenset(r.id_number for r in rows if r.deceased), areas,
                   {h: frozenset(ids) for h, ids in living.items()}, declared)


@dataclass
class Plan:
    """What a survey of a run does: ends ``invalid``, or is written (``write``)."""

    item: SurveyItem
    survey: Survey
    keys: frozenset[str]  # the people and households it touches
    write: SurveyWrite | None = None

    @property
    def problems(self) -> list[Problem]:
        return self.survey.problems


def plan(item: SurveyItem, snapshot: Snapshot, today: date) -> Plan | None:
    """The survey decided against ``snapshot`` as ``take_in_survey`` would; None when it needs
    the one-at-a-time take-in (a conflict, a declaration waiting for its household)."""
    survey = item.survey
    if any(m.deceased for m in survey.members):
        deaths = frozenset(m.id_number.value for m in survey.members
                           if m.deceased and m.id_number) & snapshot.deceased
        if deaths:
            values = item.values
            survey = read_survey(values.household, values.members, survey.line, today, deaths)
    if survey.errors:  # its people still key it: a death recorded before it changes its reading
        return Plan(item, survey, frozenset(item.id_numbers))
    people = [Incoming(m.index, m.id_number.value, m.name, m.is_head)
              for m in survey.members if m.id_number is not None]
    resurveys = next((c for c in item.candidates if c in snapshot.areas), None)
    claim = Claim(item.submitter_area, household_area(survey), resurveys)
    known = {i: p.household_id for i, p in snapshot.people.items() if p.household_id}
    decision = decide(people, claim, Registry(known, snapshot.areas, snapshot.living))
    if decision.outcome is Outcome.CONFLICT or decision.moves_in or decision.leaving:
        return None
    ids = {p.id_number for p in people}
    if ids & snapshot.declared:
        return None
    created = decision.outcome is Outcome.CREATE
    entity = item.entity_uuid
    household_id = decision.household_id if not created else (
        entity if entity and entity not in snapshot.areas else str(uuid.uuid4()))
    keys = frozenset(ids | {household_id, *item.candidates, *([entity] if entity else [])})
    return Plan(item, survey, keys, SurveyWrite(item.submission_id, survey, household_id,
                                                created, FORM_ID))
