from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class YearlyFigureRow(Base):
    """A figure a province sets for a year (see server.domain.figures)."""

    __tablename__ = "yearly_figures"
    __table_args__ = (UniqueConstraint("province", "year", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(2))
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    document: Mapped[str] = mapped_column(String(200))


class StepDeadlineRow(Base):
    """A province's limit in working days for a procedure's step, or for the whole procedure
    (``step`` = ``whole``); see server.domain.deadlines. None are set by default."""

    __tablename__ = "step_deadlines"
    __table_args__ = (UniqueConstraint("province", "procedure", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(2))
    procedure: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(20))
    workdays: Mapped[int]
    document: Mapped[str] = mapped_column(String(200))
