"""The registry's writes for a batch of surveys, set-based: a fixed number of statements for the
whole batch, not per household (issue 16).

A batch holds only the everyday surveys: a new household of people the registry does not hold
in any household, or a resurvey of a household with the same people (``Outcome.CREATE`` and
``Outcome.UPDATE`` with nobody moving in or leaving). Everything else — a conflict to hold, a
reviewer's move, a declaration waiting for its household — is written one submission at a time
by ``server.households.services.write_household``, which is also where the columns are said
(``household_values``, ``person_values``, ``survey_version_values``: one builder each, shared).

SQLAlchemy Core, not the ORM: each table's rows in one ``server.rows`` write (one COPY or one
UPDATE from arrays on PostgreSQL, an executemany on SQLite). On PostgreSQL the new people's and
survey versions' ids are taken from their sequences first (``rows.allocate_ids``), so a household
is written once, already naming its head and latest survey; those two references are checked
at the end of the writes (``rows.deferred``), inside the caller's savepoint. On SQLite the ids
are read back after the inserts (RETURNING in executemany is row by row there) and the
households updated with them. The database invariants still guard the races with other workers
(one person per ID number, one household per head): a refused write raises, and the caller
takes the batch's submissions in one by one instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.services import record_many
from server.db import among
from server.domain.survey import Survey
from server.households.models import (
    HEAD_REFERENCE,
    LATEST_SURVEY_REFERENCE,
    Household,
    Person,
    SurveyVersion,
)
from server.households.services import (
    Registered,
    household_values,
    person_values,
    survey_version_values,
)
from server.rows import allocate_ids, deferred, insert_rows, update_rows

_HOUSEHOLDS = Household.__table__
_PERSONS = Person.__table__
_VERSIONS = SurveyVersion.__table__
_REFERENCES = (HEAD_REFERENCE, LATEST_SURVEY_REFERENCE)


@dataclass
class SurveyWrite:
    """One survey of the batch: the household it writes (new, or the one it resurveys)."""

    submission_id: int
    survey: Survey
    household_id: str
    created: bool
    form_id: str
    listed: dict[str, int] = field(default_factory=dict)  # ID number -> person id, once written
    number: int = 0  # the survey version's number, once written


def write_surveys(session: Session, writes: list[SurveyWrite],
                  registered: Mapping[str, Registered]) -> None:
    """Write every survey of ``writes`` into its household, as ``write_household`` would.

    ``registered`` holds the batch's people the registry already has (by ID number), read and
    (on PostgreSQL) locked by the caller in this transaction with the households resurveyed, so
    none has moved since its decision; a person another worker registered meanwhile makes the
    insert fail on the unique ID number, and the caller takes these submissions in one by one.
    """
    if not writes:
        return
    connection = session.connection()
    resurveyed = sorted(w.household_id for w in writes if not w.created)
    held: dict[str, tuple] = {}
    numbers: dict[str, int] = {}
    if resurveyed:
        # What the survey keeps of the resurveyed households (locked by the caller's read on
        # PostgreSQL), and their latest survey numbers.
        held = {row.id: row for row in connection.execute(
            select(Household.id, Household.area_code, Household.phone,
                   Household.monitoring_type).where(among(session, Household.id, resurveyed)))}
        numbers = dict(connection.execute(
            select(SurveyVersion.household_id, func.max(SurveyVersion.number))
            .where(among(session, SurveyVersion.household_id, resurveyed))
            .group_by(SurveyVersion.household_id)).all())

    new_people, known_people, new_of = [], [], []
    for w in writes:
        for member in w.survey.members:
            values = {**person_values(member), "household_id": w.household_id,
                      "updated_by_submission_id": w.submission_id}
            person = registered.get(member.id_number.value)
            if person is None:
                new_people.append({**values, "id_number": member.id_number.value,
                                   "created_by_submission_id": w.submission_id})
                new_of.append(w)
            else:
                known_people.append({"id": person.id, **values})
                w.listed[member.id_number.value] = person.id
    for w in writes:
        w.number = 1 if w.created else numbers.get(w.household_id, 0) + 1
    versions = [{"household_id": w.household_id, "number": w.number,
                 "submission_id": w.submission_id, **survey_version_values(w.survey, w.form_id)}
                for w in writes]

    # PostgreSQL: the new rows' ids first, so that each household is written once, naming its
    # head and latest survey, before the rows it names (the two references checked at the end).
    # SQLite: the ids as the inserts made them, read back, and the households updated after.
    allocated = allocate_ids(connection, {_PERSONS: len(new_people), _VERSIONS: len(writes)})
    if allocated is not None:
        for row, w, person_id in zip(new_people, new_of, allocated[_PERSONS], strict=True):
            row["id"] = w.listed[row["id_number"]] = person_id
        for row, version_id in zip(versions, allocated[_VERSIONS], strict=True):
            row["id"] = version_id

    def named(w: SurveyWrite, version: dict) -> dict:
        return {"head_person_id": w.listed[w.survey.head.id_number.value],
                "latest_survey_id": version["id"]} if allocated is not None else {}

    with deferred(connection, _REFERENCES) if allocated is not None else nullcontext():
        insert_rows(connection, _HOUSEHOLDS, [
            {"id": w.household_id, "created_by_submission_id": w.submission_id,
             "updated_by_submission_id": w.submission_id,
             **household_values(w.survey, "", None, None), **named(w, version)}
            for w, version in zip(writes, versions, strict=True) if w.created],
            updated_at=func.now())
        update_rows(connection, _HOUSEHOLDS, "id", [
            {"id": w.household_id, "updated_by_submission_id": w.submission_id,
             **household_values(w.survey, *held[w.household_id][1:]), **named(w, version)}
            for w, version in zip(writes, versions, strict=True) if not w.created],
            updated_at=func.now())
        insert_rows(connection, _PERSONS, new_people)
        update_rows(connection, _PERSONS, "id", known_people)
        insert_rows(connection, _VERSIONS, versions)
    if allocated is None:
        _name_heads_and_latest_surveys(session, writes, new_people)
    record_many(session, [
        ("household.created" if w.created else "household.updated", "household",
         w.household_id, None, {"submission_id": w.submission_id, "survey": w.number,
                                "members": len(w.listed)}) for w in writes])


def _name_heads_and_latest_surveys(session: Session, writes: list[SurveyWrite],
                                   new_people: list[dict]) -> None:
    """Where ids are made by the inserts (SQLite): read the new people's and survey versions'
    ids back, and name each household's head and latest survey."""
    connection = session.connection()
    if new_people:
        inserted = dict(connection.execute(select(Person.id_number, Person.id).where(
            among(session, Person.id_number, [p["id_number"] for p in new_people]))).all())
        for w in writes:
            for member in w.survey.members:
                if member.id_number.value in inserted:
                    w.listed[member.id_number.value] = inserted[member.id_number.value]
    versions = dict(connection.execute(
        select(SurveyVersion.submission_id, SurveyVersion.id).where(
            among(session, SurveyVersion.submission_id, [w.submission_id for w in writes]))).all())
    update_rows(connection, _HOUSEHOLDS, "id", [
        {"id": w.household_id, "head_person_id": w.listed[w.survey.head.id_number.value],
         "latest_survey_id": versions[w.submission_id]} for w in writes])
