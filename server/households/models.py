"""The household registry: households, people, and a survey version per submission.

The database guards what must never break (DESIGN): one person per ID number, one household per
head, one survey version per submission. Every row says which submission made or last changed
it; survey versions keep the whole history.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, utcnow

# The references from a household to its head and latest survey: DEFERRABLE INITIALLY IMMEDIATE
# (PostgreSQL), so checked at once except where the batch take-in defers them to the end of its
# writes (``server.households.bulk``, by these names).
HEAD_REFERENCE = "fk_households_head_person_id_persons"
LATEST_SURVEY_REFERENCE = "fk_households_latest_survey_id_survey_versions"
_DEFERRABLE = {"deferrable": True, "initially": "IMMEDIATE"}


class Household(Base):
    __tablename__ = "households"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a UUID, the entity id
    # One household per head: a person heads at most one household.
    head_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", use_alter=True, name=HEAD_REFERENCE, **_DEFERRABLE),
        unique=True, default=None)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    size: Mapped[int] = mapped_column(default=0)
    monitoring_type: Mapped[str | None] = mapped_column(String(2), default=None)
    # Like A3 above, from the latest survey: its numbered risks ①–⑭
    # (server.domain.notices.numbered_risks), each between spaces (" 1 2 6 "; "" for none), so
    # that the county's counts by risk (server.reports) read neither the survey nor its JSON.
    numbered_risks: Mapped[str] = mapped_column(String(40), default="", server_default="")
    latest_survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_versions.id", use_alter=True, name=LATEST_SURVEY_REFERENCE,
                   **_DEFERRABLE), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id"), default=None)

    latest_survey: Mapped[SurveyVersion | None] = relationship(
        foreign_keys=[latest_survey_id], post_update=True)


class Person(Base):
    __tablename__ = "persons"
    __table_args__ = (Index("ix_persons_name_birth", "name", "birth_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)  # one person per ID
    name: Mapped[str] = mapped_column(String(50))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    household_id: Mapped[str | None] = mapped_column(
        ForeignKey("households.id"), index=True, default=None)
    relation: Mapped[str | None] = mapped_column(String(2), default=None)
    deceased: Mapped[bool] = mapped_column(default=False)
    death_date: Mapped[date | None] = mapped_column(Date, default=None)
    disability_card: Mapped[str | None] = mapped_column(String(20), default=None)
    created_by_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id"), default=None)
    updated_by_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id"), default=None)


class SurveyVersion(Base):
    """One survey of a household as a submission recorded it, with every A-field."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("household_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (household_id, number) index serves it
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"))
    number: Mapped[int]  # 1, 2, … per household
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    form_id: Mapped[str] = mapped_column(String(64))
    visit_date: Mapped[date] = mapped_column(Date)
    # Household-level values by field name (strings as the form has them; see fields.py),
    # and one dict per member in roster order.
    household_values: Mapped[dict] = mapped_column(JSON, default=dict)
    member_values: Mapped[list] = mapped_column(JSON, default=list)
    size: Mapped[int]
    # The server's values are the truth; where the phone computed otherwise, both are kept.
    a33_net_income: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), default=None)
    a34_net_income_per_capita: Mapped[Decimal | None] = mapped_column(Numeric(14, 2),
                                                                      default=None)
    a37_income_reference: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), default=None)
    a38_income_reference_per_capita: Mapped[Decimal | None] = mapped_column(Numeric(14, 2),
                                                                            default=None)
    a26_member_uninsured: Mapped[bool] = mapped_column(default=False)
    proposed_type: Mapped[str | None] = mapped_column(String(2), default=None)
    phone_differs: Mapped[dict] = mapped_column(JSON, default=dict)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def risk_text(numbers) -> str:
    """``Household.numbered_risks`` of the numbers ('1'–'14'): " 1 2 6 ", or ""."""
    return "".join(f" {number}" for number in numbers) + " " if numbers else ""


def risk_pattern(number: str) -> str:
    """The LIKE pattern of one numbered risk in ``Household.numbered_risks``."""
    return f"% {number} %"


class MeasureRecord(Base):
    """Stage two: the assistance measures (A39–A52) recorded for a household, with effects."""

    __tablename__ = "measure_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    # The measures form's submission; empty for a measure recorded through the API on a case.
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), unique=True,
                                                      default=None)
    measure_date: Mapped[date] = mapped_column(Date)
    green_channel: Mapped[bool] = mapped_column(default=False)  # 帮扶先行, before the procedure
    # Recorded through the API on an open case (green channel, server/pipeline): the case and
    # who recorded it. Measures from the form are linked to cases by their date at read time.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True,
                                                default=None)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    values: Mapped[dict] = mapped_column(JSON, default=dict)  # by field name (fields.py)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EliminationAssessment(Base):
    """Stage three (附件4/附件5 data): updated income, the standards, the proposed method."""

    __tablename__ = "elimination_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    visit_date: Mapped[date] = mapped_column(Date)
    size: Mapped[int]
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    a33_net_income: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    a34_net_income_per_capita: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    a37_income_reference: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    a38_income_reference_per_capita: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    method: Mapped[str | None] = mapped_column(String(2), default=None)  # A53
    eligible: Mapped[bool] = mapped_column(default=False)  # no blocking finding
    # The size is the registry's living members; where the phone's size or A33–A38 differ,
    # (phone's, server's) by field name.
    phone_differs: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Declaration(Base):
    """A self-declaration (农户自主申报): who, where, which risks; it starts or joins an
    identification case (server/declarations)."""

    __tablename__ = "declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    head_name: Mapped[str] = mapped_column(String(50))
    head_id_number: Mapped[str] = mapped_column(String(18), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    household_id: Mapped[str | None] = mapped_column(ForeignKey("households.id"), default=None)
    on_behalf: Mapped[bool] = mapped_column(default=False)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What became of it (server.domain.declarations.DeclarationState) and the case it opened
    # or joined (server.declarations.services).
    state: Mapped[str] = mapped_column(String(20), default="new", server_default="new",
                                       index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", use_alter=True),
                                                index=True, default=None)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
