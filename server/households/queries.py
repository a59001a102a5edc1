"""Read queries of the household registry: what the REST views show, and what the console and
the exports can call (DESIGN: "services also hold the read queries").

Every function takes the ``Principal`` it reads for and keeps to that user's area (one thing
outside it is NOT_FOUND); lists take a plain mapping of filters and return a ``Select`` the
caller pages or streams. They return plain objects with the stored values **unmasked** —
masking personal data by role is the caller's (the REST schemas mask with
``server.rest.ShownIdNumber``/``ShownPhone``; an export with full numbers is a deliberate,
audited option, SPEC §7).

What a household shows beyond its registry row:
- the server's own figures of each survey version (A26, A33, A34, A37, A38, the size, the
  proposed A3 type, where the phone computed otherwise, the warnings): they are the truth, the
  phone's values are kept beside them only where they differ;
- each member's A6 sex, derived from the ID number (SPEC §2/§3), never typed;
- whether it is a monitoring object today and since when: ``monitored_households`` of
  ``server.monitoring.services`` is the one place that decides it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth import Principal, within
from server.clock import local_day
from server.domain import codes
from server.domain.fields import (
    BY_NAME,
    DERIVED_INCOME,
    ID_NUMBER,
    MEMBER_UNINSURED,
    NAME,
    RELATION,
    SEX,
)
from server.domain.idnumber import IdNumberError, normalise
from server.domain.idnumber import parse as parse_id
from server.errors import AppError
from server.forms.models import Form, FormVersion
from server.households.models import Household, MeasureRecord, Person, SurveyVersion
from server.listing import SortKey, sorted_by, where_equal, where_in_area
from server.monitoring.services import monitored_households
from server.submissions.models import MediaObject, Submission, SubmissionAttachment, SubmissionState


@dataclass(frozen=True)
class HouseholdSummary:
    """A household as the registry lists it."""

    id: str
    area_code: str
    size: int
    head_name: str | None
    head_id_number: str | None
    phone: str | None
    monitoring_type: str | None
    survey_number: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Member:
    """A person of the household now (A6 sex as derived from the ID when they were taken in)."""

    id: int
    name: str
    sex: str
    birth_date: date
    id_number: str
    disability_card: str | None
    relation: str | None
    deceased: bool
    death_date: date | None


@dataclass(frozen=True)
class PhoneDifference:
    """A value the phone computed otherwise than the server (the server's is the truth)."""

    field: str  # the field name, e.g. "a34_net_income_per_capita"
    code: str  # its A-code, "" for the household size
    phone: str
    server: str


@dataclass(frozen=True)
class SurveyMember:
    """A member as one survey recorded them: the form's values, A6 derived from the ID."""

    index: int
    name: str
    id_number: str | None  # as written: the 18-digit ID or the 20-digit disability card
    sex: str | None  # A6
    relation: str | None
    deceased: bool
    values: dict[str, str]


@dataclass(frozen=True)
class SurveyView:
    """One survey version with the server's figures."""

    household_id: str
    number: int
    submission_id: int
    form_id: str
    visit_date: date
    created_at: datetime
    size: int
    a26_member_uninsured: bool
    a33_net_income: Decimal | None
    a34_net_income_per_capita: Decimal | None
    a37_income_reference: Decimal | None
    a38_income_reference_per_capita: Decimal | None
    proposed_type: str | None
    phone_differs: list[PhoneDifference]
    warnings: list[dict]
    values: dict[str, str]
    members: list[SurveyMember]


@dataclass(frozen=True)
class HouseholdDetail(HouseholdSummary):
    """A household with its members, its latest survey's figures and its monitoring state."""

    monitored: bool
    monitored_since: date | None  # the day (Beijing) the identification was approved
    members: list[Member]
    latest_survey: SurveyView | None


@dataclass(frozen=True)
class PersonView:
    """A person of a household of the registry, with the household's area."""

    id: int
    name: str
    sex: str
    birth_date: date
    id_number: str
    disability_card: str | None
    household_id: str
    area_code: str
    relation: str | None
    deceased: bool
    death_date: date | None


HOUSEHOLD_SORT = {"area_code": Household.area_code, "updated_at": Household.updated_at,
                  "created_at": Household.created_at, "size": Household.size,
                  "monitoring_type": Household.monitoring_type,
                  "survey_number": SurveyVersion.number}
PERSON_SORT = {"area_code": Household.area_code, "household_id": Person.household_id,
               "name": Person.name, "birth_date": Person.birth_date, "id": Person.id}


def _in_area(user: Principal):
    return within(user, Household.area_code)


def _households(user: Principal) -> Select:
    return (select(Household, Person.name, Person.id_number, SurveyVersion.number)
            .outerjoin(Person, Person.id == Household.head_person_id)
            .outerjoin(SurveyVersion, SurveyVersion.id == Household.latest_survey_id)
            .where(_in_area(user)))


def households_query(user: Principal, filters: Mapping) -> Select:
    """Rows (Household, head name, head ID, latest survey number) of the user's area, for
    ``household_summary``; ``filters``: ``area_code``, ``monitoring_type``, ``name`` (of a
    member, exact), ``id_number`` (of a member, typed in full: see ``searched_id``), ``sort``
    (keys of ``HOUSEHOLD_SORT``; by area code by default)."""
    query = sorted_by(_households(user), filters.get("sort", (SortKey("area_code"),)),
                      HOUSEHOLD_SORT, Household.id)
    query = where_in_area(query, filters, Household.area_code)
    if "name" in filters:
        query = query.where(Household.id.in_(
            select(Person.household_id).where(Person.name == filters["name"])))
    if "id_number" in filters:
        query = query.where(Household.id.in_(
            select(Person.household_id)
            .where(Person.id_number == searched_id(filters["id_number"]))))
    return where_equal(query, filters, Household, "monitoring_type")


def household_summary(row) -> HouseholdSummary:
    household, head_name, head_id, number = row
    return HouseholdSummary(
        id=household.id, area_code=household.area_code, size=household.size,
        head_name=head_name, head_id_number=head_id, phone=household.phone,
        monitoring_type=household.monitoring_type, survey_number=number,
        created_at=household.created_at, updated_at=household.updated_at)


def household_detail(session: Session, user: Principal, household_id: str,
                     today: date) -> HouseholdDetail:
    """The household if it lies in the user's area (else NOT_FOUND), as it stands on
    ``today``."""
    monitored = monitored_households(today)
    row = session.execute(
        _households(user).add_columns(monitored.c.since)
        .outerjoin(monitored, monitored.c.household_id == Household.id)
        .where(Household.id == household_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    summary = household_summary(row[:4])
    since = row[4]
    people = session.scalars(select(Person).where(Person.household_id == household_id)
                             .order_by(Person.relation.nulls_last(), Person.id)).all()
    latest = session.get(SurveyVersion, row[0].latest_survey_id) \
        if row[0].latest_survey_id is not None else None
    return HouseholdDetail(
        **vars(summary), monitored=since is not None,
        monitored_since=local_day(since) if since is not None else None,
        members=[_member(person) for person in people],
        latest_survey=survey_view(latest) if latest is not None else None)


def _household_here(session: Session, user: Principal, household_id: str) -> None:
    """NOT_FOUND unless the household lies in the user's area."""
    if session.scalar(select(Household.id).where(Household.id == household_id,
                                                 _in_area(user))) is None:
        raise AppError("NOT_FOUND")


def _people(user: Principal) -> Select:
    """People of the households inside the user's area (a person without a household, left
    detached by a roster change or a conflict, is not listed)."""
    return (select(Person, Household.area_code)
            .join(Household, Household.id == Person.household_id)
            .where(_in_area(user)))


def people_query(user: Principal, filters: Mapping) -> Select:
    """Rows (Person, household area) of the user's area, for ``person_view``; ``filters``:
    ``household_id``, ``name``, ``id_number`` (typed: see ``searched_id``), ``area_code``,
    ``deceased``, ``sort`` (keys of ``PERSON_SORT``; by area and household by default)."""
    sort = filters.get("sort", (SortKey("area_code"), SortKey("household_id")))
    query = sorted_by(_people(user), sort, PERSON_SORT, Person.id)
    query = where_equal(query, filters, Person, "household_id", "name")
    if "id_number" in filters:
        query = query.where(Person.id_number == searched_id(filters["id_number"]))
    query = where_in_area(query, filters, Household.area_code)
    if "deceased" in filters:
        query = query.where(Person.deceased.is_(filters["deceased"]))
    return query


def readable_person(session: Session, user: Principal, person_id: int) -> PersonView:
    """The person if their household lies in the user's area (else NOT_FOUND)."""
    row = session.execute(_people(user).where(Person.id == person_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return person_view(row)


def person_view(row) -> PersonView:
    person, area_code = row
    return PersonView(id=person.id, name=person.name, sex=person.sex,
                      birth_date=person.birth_date, id_number=person.id_number,
                      disability_card=person.disability_card,
                      household_id=person.household_id, area_code=area_code,
                      relation=person.relation, deceased=person.deceased,
                      death_date=person.death_date)


def searched_id(raw: str) -> str:
    """A typed ID number as the registry keys people: normalised, a 20-digit disability card
    number cut to the 18-digit ID it starts with. Nothing is refused: a malformed number simply
    finds nobody."""
    value = normalise(raw)
    return value[:18] if len(value) == 20 else value


def survey_versions_query(user: Principal, household_id: str) -> Select:
    """The survey versions of a household of the user's area, oldest first (a Select of
    ``SurveyVersion``; the caller pages it and turns each into ``survey_view``)."""
    return (select(SurveyVersion)
            .join(Household, Household.id == SurveyVersion.household_id)
            .where(SurveyVersion.household_id == household_id, _in_area(user))
            .order_by(SurveyVersion.number))


def household_surveys_query(session: Session, user: Principal, household_id: str) -> Select:
    """``survey_versions_query`` of a household that lies in the user's area (else
    NOT_FOUND, even when it has no survey)."""
    _household_here(session, user, household_id)
    return survey_versions_query(user, household_id)


@dataclass(frozen=True)
class SurveyListed:
    """One survey of a household, as a list of them shows it (no values)."""

    number: int
    visit_date: date
    form_id: str
    created_at: datetime


def survey_list(session: Session, user: Principal, household_id: str) -> list[SurveyListed]:
    """The household's surveys, oldest first, without their values (NOT_FOUND outside the
    user's area)."""
    _household_here(session, user, household_id)
    rows = session.execute(
        select(SurveyVersion.number, SurveyVersion.visit_date, SurveyVersion.form_id,
               SurveyVersion.created_at)
        .where(SurveyVersion.household_id == household_id).order_by(SurveyVersion.number))
    return [SurveyListed(*row) for row in rows]


def survey_version(session: Session, user: Principal, household_id: str,
                   number: int) -> SurveyView:
    """The household's ``number``-th survey, if the household lies in the user's area (else
    NOT_FOUND)."""
    version = session.scalar(survey_versions_query(user, household_id)
                             .where(SurveyVersion.number == number))
    if version is None:
        raise AppError("NOT_FOUND")
    return survey_view(version)


def survey_view(version: SurveyVersion) -> SurveyView:
    return SurveyView(
        household_id=version.household_id, number=version.number,
        submission_id=version.submission_id, form_id=version.form_id,
        visit_date=version.visit_date, created_at=version.created_at, size=version.size,
        a26_member_uninsured=version.a26_member_uninsured,
        a33_net_income=version.a33_net_income,
        a34_net_income_per_capita=version.a34_net_income_per_capita,
        a37_income_reference=version.a37_income_reference,
        a38_income_reference_per_capita=version.a38_income_reference_per_capita,
        proposed_type=version.proposed_type,
        phone_differs=_differences(version.phone_differs or {}),
        warnings=list(version.warnings or []),
        values={k: str(v) for k, v in (version.household_values or {}).items()},
        members=[_survey_member(i + 1, values)
                 for i, values in enumerate(version.member_values or [])])


def survey_values(view: SurveyView) -> tuple[dict[str, str], list[dict[str, str]]]:
    """A survey's values by field name as the registry holds them: the household's with the
    server's own figures in place of the phone's (A26, A33, A34, A37, A38, the size), and each
    member's with A6 derived from the ID number — what a page lays out or compares."""
    figures = (view.a33_net_income, view.a34_net_income_per_capita, view.a37_income_reference,
               view.a38_income_reference_per_capita)
    household = dict(view.values)
    household.update({spec.name: "" if value is None else str(value)
                      for spec, value in zip(DERIVED_INCOME, figures, strict=True)})
    household[MEMBER_UNINSURED.name] = codes.YES if view.a26_member_uninsured else codes.NO
    household[BY_NAME["household_size"].name] = str(view.size)
    members = [{**member.values, SEX.name: member.sex or ""} for member in view.members]
    return household, members


def _member(person: Person) -> Member:
    return Member(id=person.id, name=person.name, sex=person.sex, birth_date=person.birth_date,
                  id_number=person.id_number, disability_card=person.disability_card,
                  relation=person.relation, deceased=person.deceased,
                  death_date=person.death_date)


def _differences(stored: dict) -> list[PhoneDifference]:
    out = []
    for name, pair in stored.items():
        phone, server = (list(pair) + ["", ""])[:2]
        spec = BY_NAME.get(name)
        out.append(PhoneDifference(name, spec.code if spec else "", str(phone), str(server)))
    return out


def _survey_member(index: int, values: dict) -> SurveyMember:
    id_text = values.get(ID_NUMBER.name)
    return SurveyMember(index=index, name=str(values.get(NAME.name, "")),
                        id_number=str(id_text) if id_text else None, sex=_sex(id_text),
                        relation=values.get(RELATION.name),
                        deceased=values.get("deceased") == codes.YES,
                        values={k: str(v) for k, v in values.items()})


def _sex(id_text: object) -> str | None:
    """A6 from the ID number (SPEC §3: digit 17 odd = male); None when there is none to read
    (a survey is stored only when its IDs are valid, so this is for old or odd rows)."""
    if not id_text:
        return None
    try:
        return parse_id(str(id_text)).sex.value
    except IdNumberError:
        return None



@dataclass(frozen=True)
class SurveyedHousehold:
    """A household with its latest survey and its head, as a helper's phone lists it."""

    household: Household
    survey: SurveyVersion
    head_name: str
    head_id_number: str


def surveyed_households(session: Session, user: Principal) -> list[SurveyedHousehold]:
    """The households of the user's area that have a survey and a head (the entity list the
    follow-up forms pick from), ordered by area code, then by the head's name."""
    return list(streamed_surveyed_households(session, user))


def streamed_surveyed_households(session: Session, user: Principal,
                                 batch: int = 500) -> Iterator[SurveyedHousehold]:
    """``surveyed_households`` read ``batch`` rows at a time (a server-side cursor on
    PostgreSQL), for a list streamed to the phone."""
    rows = session.execute(
        select(Household, SurveyVersion, Person.name, Person.id_number)
        .join(SurveyVersion, SurveyVersion.id == Household.latest_survey_id)
        .join(Person, Person.id == Household.head_person_id)
        .where(_in_area(user))
        .order_by(Household.area_code, Person.name)
        .execution_options(yield_per=batch)
    )
    for row in rows:
        yield SurveyedHousehold(*row)


# --- photos, signatures, measures of a household ------------------------------------------------

# Pictures the forms take in repeats, which the field registry does not list (it lists the
# values of the national dataset); their labels are the forms'.
_PICTURE_LABELS = {"photo_id_card": "身份证照片", "photo_proof": "证明材料照片",
                   "team_signature": "入户核实人员签字"}
_SIGNATURES = frozenset({"sig_applicant", "sig_head", "team_signature"})


@dataclass(frozen=True)
class HouseholdFile:
    """A file of a submission taken in for the household: a photo or a signature."""

    submission_id: int
    form_title: str
    received_at: datetime
    name: str
    field: str  # the question it answers (the last step of its path), "" when none
    label: str
    signature: bool
    media_sha256: str | None  # None while the phone has not sent it
    content_type: str | None

    @property
    def image(self) -> bool:
        return bool(self.content_type and self.content_type.startswith("image/"))


def _files(household_id: str) -> Select:
    return (select(SubmissionAttachment, Submission.received_at, Form.title,
                   MediaObject.content_type)
            .join(Submission, Submission.id == SubmissionAttachment.submission_id)
            .join(FormVersion, FormVersion.id == Submission.form_version_id)
            .join(Form, Form.id == FormVersion.form_id)
            .outerjoin(MediaObject, MediaObject.sha256 == SubmissionAttachment.media_sha256)
            .where(Submission.household_id == household_id,
                   Submission.state == SubmissionState.APPLIED.value,
                   SubmissionAttachment.field_path != ""))


def file_label(field_name: str) -> str:
    """The Chinese name of the question a photo or signature answers (the registry's label,
    or the form's for the pictures of repeats); the field's name when there is none."""
    spec = BY_NAME.get(field_name)
    return spec.label if spec is not None else _PICTURE_LABELS.get(field_name, field_name)


def _household_file(row) -> HouseholdFile:
    attachment, received_at, form_title, content_type = row
    field_name = attachment.field_path.rsplit("/", 1)[-1]
    label = file_label(field_name)
    return HouseholdFile(
        submission_id=attachment.submission_id, form_title=form_title, received_at=received_at,
        name=attachment.name, field=field_name, label=label,
        signature=field_name in _SIGNATURES, media_sha256=attachment.media_sha256,
        content_type=content_type)


def household_files(session: Session, user: Principal, household_id: str) -> list[HouseholdFile]:
    """The photos and signatures of the submissions taken in for the household (surveys,
    risk elimination, self-declaration), newest submission first; NOT_FOUND outside the user's
    area. Files the form data does not reference are left out."""
    _household_here(session, user, household_id)
    rows = session.execute(_files(household_id).order_by(
        Submission.received_at.desc(), Submission.id.desc(), SubmissionAttachment.name))
    return [_household_file(row) for row in rows]


def household_file(session: Session, user: Principal, household_id: str, submission_id: int,
                   name: str) -> HouseholdFile:
    """One received file of the household (else NOT_FOUND), to show its thumbnail."""
    _household_here(session, user, household_id)
    row = session.execute(_files(household_id).where(
        SubmissionAttachment.submission_id == submission_id, SubmissionAttachment.name == name,
        SubmissionAttachment.media_sha256.is_not(None))).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return _household_file(row)


def download_household_file(session: Session, user: Principal, household_id: str,
                            submission_id: int, name: str) -> HouseholdFile:
    """``household_file`` in full size: personal data leaving the server, audited like the
    download of a submission's attachment."""
    found = household_file(session, user, household_id, submission_id, name)
    record(session, "submission.attachment_downloaded", "submission", submission_id, user.id,
           name=name, media_sha256=found.media_sha256, household_id=household_id)
    return found


@dataclass(frozen=True)
class MeasureView:
    """Assistance measures recorded for the household (stage two), by field name."""

    id: int
    measure_date: date
    green_channel: bool
    case_id: int | None
    submission_id: int | None
    values: dict[str, str]
    created_at: datetime


def household_measures(session: Session, user: Principal, household_id: str
                       ) -> list[MeasureView]:
    """The household's measure records, latest first (NOT_FOUND outside the user's area)."""
    _household_here(session, user, household_id)
    records = session.scalars(select(MeasureRecord)
                              .where(MeasureRecord.household_id == household_id)
                              .order_by(MeasureRecord.measure_date.desc(),
                                        MeasureRecord.id.desc()))
    return [MeasureView(id=record.id, measure_date=record.measure_date,
                        green_channel=record.green_channel, case_id=record.case_id,
                        submission_id=record.submission_id,
                        values={k: str(v) for k, v in (record.values or {}).items() if v},
                        created_at=record.created_at)
            for record in records]


def household_people_ids(household_id: str) -> Select:
    """The ID numbers of the household's people (a subquery for the conflicts and duplicate
    flags that concern it)."""
    return select(Person.id_number).where(Person.household_id == household_id)
