"""Dynamic management (SPEC §6): assistance-effect evaluations, sweeps and their ledgers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, utcnow


class AssistanceEvaluation(Base):
    """帮扶成效评估: one evaluation of a monitored household's assistance (≥ 1 a quarter)."""

    __tablename__ = "assistance_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    evaluated_on: Mapped[date] = mapped_column(Date, index=True)
    evaluator: Mapped[str] = mapped_column(String(100))  # who evaluated (name, unit)
    result: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Sweep(Base):
    """集中排查: one sweep of a county or township for a half-year (``2026H1``)."""

    __tablename__ = "sweeps"
    __table_args__ = (UniqueConstraint("area_code", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    period: Mapped[str] = mapped_column(String(6))  # server.domain.monitoring.Period label
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SweepLedgerRow(Base):
    """排查台账: one household checked in a sweep. Append-only: a later row for the same
    household corrects or completes the earlier ones; all are kept."""

    __tablename__ = "sweep_ledger_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    sweep_id: Mapped[int] = mapped_column(ForeignKey("sweeps.id"), index=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    finding: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
