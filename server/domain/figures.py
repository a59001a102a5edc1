"""Yearly figures set per province: the monitoring line, the risk-elimination floor, notice days.

They are data, never constants (SPEC §3): each row names its province, year and source document.
A year without its own row uses the latest earlier year's figure, and says so (``year_used``),
because a province publishes its new line some months into the year and work cannot stop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from server.domain.catalogue import CatalogueError


class FigureKind(StrEnum):
    MONITORING_LINE = "monitoring_line"  # 收入监测范围基准线, yuan per person per year
    ELIMINATION_FLOOR = "elimination_floor"  # A34 below it blocks 风险消除, yuan
    NOTICE_DAYS = "notice_days"  # length of the village public notice (公示), days


FIGURE_NAMES = {
    FigureKind.MONITORING_LINE: "监测范围基准线（元/人·年）",
    FigureKind.ELIMINATION_FLOOR: "风险消除人均纯收入底线（元）",
    FigureKind.NOTICE_DAYS: "公示天数",
}


@dataclass(frozen=True)
class YearlyFigure:
    province: str  # 2-digit province code, e.g. "43" for 湖南
    year: int
    kind: FigureKind
    value: Decimal
    document: str  # the source, e.g. 湘委乡振组发〔2021〕1号


@dataclass(frozen=True)
class FigureLookup:
    value: Decimal
    year_used: int
    document: str


class FigureMissing(CatalogueError, LookupError):
    """No figure of ``kind`` for the year or an earlier one (catalogue code FIGURE_MISSING)."""

    def __init__(self, province: str, year: int, kind: FigureKind):
        super().__init__("FIGURE_MISSING", province=province, year=year,
                         figure=FIGURE_NAMES[kind])
        self.province, self.year, self.kind = province, year, kind


def figure_for(figures: Iterable[YearlyFigure], province: str, year: int,
               kind: FigureKind) -> FigureLookup:
    """The figure in force for ``year``: its own, else the latest earlier year's."""
    candidates = [f for f in figures
                  if f.province == province and f.kind == kind and f.year <= year]
    if not candidates:
        raise FigureMissing(province, year, kind)
    best = max(candidates, key=lambda f: f.year)
    return FigureLookup(best.value, best.year, best.document)
