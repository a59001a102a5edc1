"""Read services of deduplication: conflicts and likely duplicates, as the REST API lists and
shows them and as the console and the exports call them. ID numbers are returned as stored
(masking by role is the caller's).

A conflict belongs to the smallest area covering its submitter's area and every household and
address involved (``Conflict.area_code``, SPEC §5): the users of that area or above see it. A
likely-duplicate flag is visible to a user when either person's household lies in their area,
or when the submission that raised it was sent from there; a flagged person is shown only when
their household lies inside the user's area.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.audit.queries import AuditEntryView, entries_about
from server.auth import Principal, within
from server.dedup.models import Conflict, DuplicateFlag
from server.domain.areas import contains
from server.domain.dedup import CONFLICT_NAMES
from server.domain.fields import ID_NUMBER, NAME, RELATION
from server.errors import AppError
from server.households.models import Household, Person
from server.households.queries import HouseholdDetail, household_detail, household_people_ids
from server.listing import where_equal
from server.submissions.instance import corrected
from server.submissions.models import Submission
from server.submissions.queries import submission_values


@dataclass(frozen=True)
class ConflictView:
    id: int
    submission_id: int
    submission_state: str
    kind: str
    kind_name: str
    id_number: str
    member_indexes: list[int]
    households: list[str]
    area_code: str
    status: str
    resolution: str | None
    note: str | None
    created_at: datetime
    resolved_by: int | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class FlaggedPerson:
    """The registry's person behind one side of a flag (inside the reader's area)."""

    id: int
    name: str
    birth_date: date
    household_id: str | None
    area_code: str | None


@dataclass(frozen=True)
class DuplicateFlagView:
    id: int
    id_number_a: str
    id_number_b: str
    person_a: FlaggedPerson | None
    person_b: FlaggedPerson | None
    submission_id: int | None
    status: str
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None


# --- conflicts ----------------------------------------------------------------------------------


def _conflicts(user: Principal) -> Select:
    return (select(Conflict, Submission.state)
            .join(Submission, Submission.id == Conflict.submission_id)
            .where(within(user, Conflict.area_code)))


def conflicts_query(user: Principal, filters: Mapping) -> Select:
    """Rows (Conflict, its submission's state) of the user's area, first come first, for
    ``conflict_view``; ``filters``: ``status``, ``kind``, ``submission_id``, ``household_id``
    (the household is among those involved, or the conflict is about one of its people)."""
    query = _conflicts(user).order_by(Conflict.id)
    if "household_id" in filters:
        household_id = filters["household_id"]
        # ``households`` is a JSON list of ids (UUIDs: no LIKE wildcard in them), read as text
        # alike on both databases.
        query = query.where(or_(
            cast(Conflict.households, String).contains(household_id, autoescape=True),
            Conflict.id_number.in_(household_people_ids(household_id))))
    return where_equal(query, filters, Conflict, "status", "kind", "submission_id")


def readable_conflict(session: Session, user: Principal, conflict_id: int) -> ConflictView:
    """The conflict if it belongs to the user's area (else NOT_FOUND)."""
    row = session.execute(_conflicts(user).where(Conflict.id == conflict_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return conflict_view(row)


def conflict_view(row) -> ConflictView:
    conflict, state = row
    return ConflictView(
        id=conflict.id, submission_id=conflict.submission_id, submission_state=state,
        kind=conflict.kind, kind_name=CONFLICT_NAMES.get(conflict.kind, conflict.kind),
        id_number=conflict.id_number, member_indexes=conflict.member_indexes or [],
        households=conflict.households or [], area_code=conflict.area_code,
        status=conflict.status, resolution=conflict.resolution, note=conflict.note,
        created_at=conflict.created_at, resolved_by=conflict.resolved_by,
        resolved_at=conflict.resolved_at)


@dataclass(frozen=True)
class IncomingPerson:
    """A person as the held submission lists them (its roster, after any correction)."""

    index: int  # 1-based, as ``ConflictView.member_indexes``
    name: str
    id_number: str  # as written: 18 digits, or a 20-digit disability card
    relation: str | None
    involved: bool  # the conflict is about them


@dataclass(frozen=True)
class ConflictDetail:
    """The two sides of a conflict: what the held submission says, and the registered
    households it concerns (those inside the reader's area), with the reviewer's decision as the
    audit log keeps it."""

    conflict: ConflictView
    submitter: str | None
    received_at: datetime | None
    address: str | None  # the area code the submission gives (its group, else its village)
    incoming: list[IncomingPerson]
    households: list[HouseholdDetail]
    history: list[AuditEntryView]


def conflict_detail(session: Session, user: Principal, conflict_id: int,
                    today: date) -> ConflictDetail:
    """``readable_conflict`` with its two sides and its audit entries (NOT_FOUND outside the
    user's area). The conflict's area covers the submitter's and every household involved, so a
    reader of the conflict reads them all."""
    view = readable_conflict(session, user, conflict_id)
    values = corrected(submission_values(session, user, view.submission_id),
                       dict(session.scalar(select(Submission.corrections).where(
                           Submission.id == view.submission_id)) or {}))
    submitter, received_at = session.execute(
        select(User.username, Submission.received_at)
        .join(User, User.id == Submission.submitter_id)
        .where(Submission.id == view.submission_id)).one()
    incoming = [IncomingPerson(index=n, name=str(member.get(NAME.name) or ""),
                               id_number=str(member.get(ID_NUMBER.name) or ""),
                               relation=member.get(RELATION.name) or None,
                               involved=n in view.member_indexes)
                for n, member in enumerate(values.members, start=1)]
    households = []
    for household_id in view.households:
        try:
            households.append(household_detail(session, user, household_id, today))
        except AppError:  # no longer registered, or (a moved border) outside the area
            continue
    address = values.household.get("addr_group") or values.household.get("addr_village")
    return ConflictDetail(conflict=view, submitter=submitter, received_at=received_at,
                          address=address or None, incoming=incoming, households=households,
                          history=entries_about(session, "conflict.resolved", "conflict",
                                                conflict_id))


# --- likely duplicates --------------------------------------------------------------------------


def _flags(user: Principal) -> Select:
    sides = (DuplicateFlag.id_number_a, DuplicateFlag.id_number_b)
    person_here = (select(Person.id).join(Household, Household.id == Person.household_id)
                   .where(Person.id_number.in_(sides), within(user, Household.area_code))
                   .exists())
    sent_here = (select(Submission.id).join(User, User.id == Submission.submitter_id)
                 .where(Submission.id == DuplicateFlag.submission_id,
                        within(user, User.area_code)).exists())
    return select(DuplicateFlag).where(or_(person_here, sent_here))


def flags_query(user: Principal, filters: Mapping) -> Select:
    """The flags (a Select of ``DuplicateFlag``) the user sees, by id, for ``flag_views``;
    ``filters``: ``status``, ``household_id`` (one side is a person of that household)."""
    query = _flags(user).order_by(DuplicateFlag.id)
    if "household_id" in filters:
        people = household_people_ids(filters["household_id"])
        query = query.where(or_(DuplicateFlag.id_number_a.in_(people),
                                DuplicateFlag.id_number_b.in_(people)))
    return where_equal(query, filters, DuplicateFlag, "status")


def readable_flag(session: Session, user: Principal, flag_id: int) -> DuplicateFlag:
    """The flag if the user sees it (else NOT_FOUND)."""
    flag = session.scalar(_flags(user).where(DuplicateFlag.id == flag_id))
    if flag is None:
        raise AppError("NOT_FOUND")
    return flag


def flag_views(session: Session, user: Principal,
               flags: Sequence[DuplicateFlag]) -> list[DuplicateFlagView]:
    """The flags with the people behind them, read with one query for them all."""
    ids = {n for flag in flags for n in (flag.id_number_a, flag.id_number_b)}
    people = {person.id_number: (person, area) for person, area in session.execute(
        select(Person, Household.area_code)
        .outerjoin(Household, Household.id == Person.household_id)
        .where(Person.id_number.in_(ids)))} if ids else {}

    def side(found) -> FlaggedPerson | None:
        if found is None or found[1] is None or not contains(user.area_code, found[1]):
            return None
        person, area = found
        return FlaggedPerson(id=person.id, name=person.name, birth_date=person.birth_date,
                             household_id=person.household_id, area_code=area)

    return [DuplicateFlagView(
        id=flag.id, id_number_a=flag.id_number_a, id_number_b=flag.id_number_b,
        person_a=side(people.get(flag.id_number_a)), person_b=side(people.get(flag.id_number_b)),
        submission_id=flag.submission_id, status=flag.status, created_at=flag.created_at,
        decided_by=flag.decided_by, decided_at=flag.decided_at) for flag in flags]


@dataclass(frozen=True)
class FlagDetail:
    """A likely duplicate with the households of its two people (those inside the reader's
    area) and the verdict as the audit log keeps it."""

    flag: DuplicateFlagView
    household_a: HouseholdDetail | None
    household_b: HouseholdDetail | None
    history: list[AuditEntryView]


def flag_detail(session: Session, user: Principal, flag_id: int, today: date) -> FlagDetail:
    """``readable_flag`` with both sides (NOT_FOUND when the user does not see the flag)."""
    [view] = flag_views(session, user, [readable_flag(session, user, flag_id)])

    def household(person: FlaggedPerson | None) -> HouseholdDetail | None:
        if person is None or person.household_id is None:
            return None
        return household_detail(session, user, person.household_id, today)

    return FlagDetail(view, household(view.person_a), household(view.person_b),
                      entries_about(session, "duplicate.judged", "duplicate_flag", flag_id))
