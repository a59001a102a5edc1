"""Use cases of the yearly figures: load the bundled ones, read them as domain values."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.domain.deadlines import StepDeadline
from server.domain.figures import (
    FigureKind,
    FigureLookup,
    FigureMissing,
    YearlyFigure,
    figure_for,
)
from server.domain.pipeline import Procedure, Step
from server.figures.models import StepDeadlineRow, YearlyFigureRow

BUNDLED_FIGURES = Path(__file__).resolve().parent.parent / "data" / "yearly-figures.csv"
BUNDLED_DEADLINES = Path(__file__).resolve().parent.parent / "data" / "step-deadlines.csv"
WHOLE = "whole"  # the ``step`` of a limit on the whole procedure


def figures(session: Session, province: str | None = None) -> list[YearlyFigure]:
    query = select(YearlyFigureRow).order_by(YearlyFigureRow.province, YearlyFigureRow.year)
    if province:
        query = query.where(YearlyFigureRow.province == province)
    return [
        YearlyFigure(row.province, row.year, FigureKind(row.kind), row.value, row.document)
        for row in session.scalars(query)
    ]


@dataclass(frozen=True)
class YearFigures:
    """The figures in force in one year, each of its own year or carried from an earlier one."""

    year: int
    values: dict[FigureKind, FigureLookup]

    @property
    def year_used(self) -> int:
        """The latest year whose figures are used (the year itself when it has all its own)."""
        return max(value.year_used for value in self.values.values())


def figures_by_year(session: Session, province: str, last: int) -> list[YearFigures]:
    """Every year from the province's first figure to ``last``, with every kind in force.

    A year without figures of its own carries the latest earlier year's (``figure_for``); a
    year before some kind's first figure is left out.
    """
    known = figures(session, province)
    years = []
    for year in range(min((f.year for f in known), default=last + 1), last + 1):
        try:
            values = {kind: figure_for(known, province, year, kind) for kind in FigureKind}
        except FigureMissing:
            continue
        years.append(YearFigures(year, values))
    return years


_IN_FORCE = (  # built once: it runs for every submission taken in
    select(YearlyFigureRow.province, YearlyFigureRow.year, YearlyFigureRow.kind,
           YearlyFigureRow.value, YearlyFigureRow.document)
    .where(YearlyFigureRow.province == bindparam("province"),
           YearlyFigureRow.kind == bindparam("kind"), YearlyFigureRow.year <= bindparam("year"))
    .order_by(YearlyFigureRow.year.desc()).limit(1)
)


def figure_in_force(session: Session, province: str, year: int,
                    kind: FigureKind) -> FigureLookup:
    """One figure by the rule of ``domain.figures.figure_for``, read with one indexed query."""
    rows = session.connection().execute(
        _IN_FORCE, {"province": province, "kind": kind.value, "year": year}).all()
    return figure_for([YearlyFigure(r.province, r.year, FigureKind(r.kind), r.value, r.document)
                       for r in rows], province, year, kind)


def set_figure(session: Session, figure: YearlyFigure, user_id: int | None = None) -> None:
    """Insert or replace one figure; the change is in the audit log."""
    row = session.scalar(select(YearlyFigureRow).where(
        YearlyFigureRow.province == figure.province, YearlyFigureRow.year == figure.year,
        YearlyFigureRow.kind == figure.kind.value))
    old = str(row.value) if row else None
    if row is None:
        row = YearlyFigureRow(province=figure.province, year=figure.year, kind=figure.kind.value)
        session.add(row)
    row.value, row.document = figure.value, figure.document
    session.flush()
    record(session, "figure.set", "yearly_figure", row.id, user_id, province=figure.province,
           year=figure.year, kind=figure.kind.value, old=old, new=str(figure.value),
           document=figure.document)


def load_bundled(session: Session, path: Path = BUNDLED_FIGURES) -> int:
    """Load ``server/data/yearly-figures.csv`` (figures already present are left alone)."""
    count = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            exists = session.scalar(select(YearlyFigureRow.id).where(
                YearlyFigureRow.province == row["province"],
                YearlyFigureRow.year == int(row["year"]), YearlyFigureRow.kind == row["kind"]))
            if exists is None:
                set_figure(session, YearlyFigure(row["province"], int(row["year"]),
                                                 FigureKind(row["kind"]), Decimal(row["value"]),
                                                 row["document"]))
                count += 1
    return count


def _deadline(row: StepDeadlineRow) -> StepDeadline:
    return StepDeadline(row.province, Procedure(row.procedure),
                        None if row.step == WHOLE else Step(row.step), row.workdays,
                        row.document)


def step_deadlines(session: Session, province: str | None = None) -> list[StepDeadline]:
    """The configured step deadlines (server.domain.deadlines), of one province or all."""
    query = select(StepDeadlineRow).order_by(StepDeadlineRow.province, StepDeadlineRow.procedure,
                                             StepDeadlineRow.step)
    if province:
        query = query.where(StepDeadlineRow.province == province)
    return [_deadline(row) for row in session.scalars(query)]


def set_step_deadline(session: Session, deadline: StepDeadline,
                      user_id: int | None = None) -> None:
    """Insert or replace one limit; the change is in the audit log."""
    step = deadline.step.value if deadline.step else WHOLE
    row = session.scalar(select(StepDeadlineRow).where(
        StepDeadlineRow.province == deadline.province,
        StepDeadlineRow.procedure == deadline.procedure.value, StepDeadlineRow.step == step))
    old = row.workdays if row else None
    if row is None:
        row = StepDeadlineRow(province=deadline.province, procedure=deadline.procedure.value,
                              step=step)
        session.add(row)
    row.workdays, row.document = deadline.workdays, deadline.document
    session.flush()
    record(session, "deadline.set", "step_deadline", row.id, user_id,
           province=deadline.province, procedure=deadline.procedure.value, step=step, old=old,
           new=deadline.workdays, document=deadline.document)


def clear_step_deadline(session: Session, province: str, procedure: Procedure,
                        step: Step | None, user_id: int | None = None) -> bool:
    """Remove one limit (the step has no deadline again); False when none was set."""
    name = step.value if step else WHOLE
    row = session.scalar(select(StepDeadlineRow).where(
        StepDeadlineRow.province == province, StepDeadlineRow.procedure == procedure.value,
        StepDeadlineRow.step == name))
    if row is None:
        return False
    record(session, "deadline.cleared", "step_deadline", row.id, user_id, province=province,
           procedure=procedure.value, step=name, old=row.workdays)
    session.delete(row)
    session.flush()
    return True


def load_bundled_deadlines(session: Session, path: Path = BUNDLED_DEADLINES) -> int:
    """Load ``server/data/step-deadlines.csv`` (header only as shipped: SPEC §6 sets no deadline
    beyond the notice); limits already present are left alone."""
    count = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            step = row["step"] or WHOLE
            exists = session.scalar(select(StepDeadlineRow.id).where(
                StepDeadlineRow.province == row["province"],
                StepDeadlineRow.procedure == row["procedure"], StepDeadlineRow.step == step))
            if exists is None:
                set_step_deadline(session, StepDeadline(
                    row["province"], Procedure(row["procedure"]),
                    None if step == WHOLE else Step(step), int(row["workdays"]),
                    row["document"]))
                count += 1
    return count
