"""Use cases of the yearly figures: load the bundled ones, read them as domain values."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.domain.figures import FigureKind, FigureLookup, YearlyFigure, figure_for
from server.figures.models import YearlyFigureRow

BUNDLED_FIGURES = Path(__file__).resolve().parent.parent / "data" / "yearly-figures.csv"


def figures(session: Session, province: str | None = None) -> list[YearlyFigure]:
    query = select(YearlyFigureRow).order_by(YearlyFigureRow.province, YearlyFigureRow.year)
    if province:
        query = query.where(YearlyFigureRow.province == province)
    return [
        YearlyFigure(row.province, row.year, FigureKind(row.kind), row.value, row.document)
        for row in session.scalars(query)
    ]


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
