"""Counts for the county (SPEC §7 "counts by area, type, risk and step"): what the console's
dashboard shows and what ``GET /api/v1/reports/counts`` (issue 14) answers — one read service.

Every count is grouped in SQL, one query per table read, scoped to the user's area
(``within``) and narrowed by ``filters["area_code"]`` when given:

- households (``households_by_area``): the monitoring objects and the households whose risk
  was eliminated, by child area and A3 type — whom a household is is
  ``server.monitoring.services.latest_decisions``, the one rule of who is monitored;
- their latest surveys (``monitored_by_risk``): the numbered risks ①–⑭ (SPEC §4);
- open cases (``open_cases``): by child area, procedure and step, overdue apart (the
  configured deadlines, ``server.pipeline.deadlines``);
- closed cases (``per_month``): identifications and eliminations approved per month, the
  month of the approval in Asia/Shanghai (SQLite and PostgreSQL group dates differently:
  ``local_month``);
- evaluations (``evaluation_counts``): the monitoring service's quarterly status, counted.

``counts`` gathers them all for one page or one API answer. Nothing is masked: no personal
data is in a count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import String, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from server.auth import Principal, within
from server.clock import day_start
from server.domain import codes, fields
from server.domain.areas import CODE_LENGTH, AreaCodeError, level_of
from server.domain.figures import FigureKind, FigureMissing
from server.domain.monitoring import DueStatus, Period, due_status, quarter_of
from server.domain.pipeline import STEPS, Procedure, Status, Step
from server.errors import AppError
from server.figures.services import figure_in_force
from server.households.models import Household, SurveyVersion
from server.monitoring.services import (
    evaluation_status_query,
    latest_decisions,
    monitored_households,
)
from server.pipeline.deadlines import overdue_condition
from server.pipeline.models import Case

MONTHS = 12  # identifications and eliminations per month: this month and the 11 before


class local_month(FunctionElement):  # noqa: N801 (a SQL function, named as SQL names them)
    """SQL: ``YYYY-MM`` of a UTC timestamp column in Asia/Shanghai (UTC+8 all year: China has
    kept no daylight saving time since 1991)."""

    type = String()
    inherit_cache = True
    name = "local_month"


@compiles(local_month, "postgresql")
def _local_month_postgresql(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE " \
           f"'Asia/Shanghai', 'YYYY-MM')"


@compiles(local_month, "sqlite")
def _local_month_sqlite(element, compiler, **kw):
    return f"substr(datetime({compiler.process(element.clauses, **kw)}, '+8 hours'), 1, 7)"


# --- what a count is ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaCounts:
    """One area directly below the one counted (a township of a county, a village of a
    township)."""

    area_code: str
    monitored: int  # monitoring objects now
    eliminated: int  # households whose risk was eliminated (and not identified again)
    open_cases: int
    overdue_cases: int


@dataclass(frozen=True)
class HouseholdCounts:
    by_type: dict[str | None, int]  # monitoring objects by A3 code (None: not given)
    by_area: dict[str, tuple[int, int]]  # child area → (monitored, eliminated)
    monitored: int
    eliminated: int


@dataclass(frozen=True)
class StepCounts:
    procedure: Procedure
    step: Step
    open: int
    overdue: int


@dataclass(frozen=True)
class CaseCounts:
    by_step: list[StepCounts]  # every step of both procedures, in their order
    by_area: dict[str, tuple[int, int]]  # child area → (open, overdue)

    @property
    def open(self) -> int:
        return sum(s.open for s in self.by_step)

    @property
    def overdue(self) -> int:
        return sum(s.overdue for s in self.by_step)

    def open_in(self, procedure: Procedure) -> int:
        return sum(s.open for s in self.by_step if s.procedure is procedure)


@dataclass(frozen=True)
class MonthCounts:
    month: str  # 2026-05
    identified: int  # identifications approved by the county that month: new monitoring objects
    eliminated: int  # risk eliminations approved that month


@dataclass(frozen=True)
class RiskCounts:
    """Monitoring objects with each numbered risk (codes.NUMBERED_RISKS: '1'–'14') on their
    latest survey; a household with several risks counts under each."""

    by_risk: dict[str, int]
    surveyed: int  # monitoring objects with a survey (the others have no risks to count)
    line: Decimal | None  # the monitoring line ① is counted against (None: none in force)


@dataclass(frozen=True)
class Progress:
    """风险消除进度: of the households ever identified and not identified again after."""

    monitored: int  # monitoring objects now
    eliminating: int  # of them, in a risk-elimination procedure
    eliminated: int  # risk eliminated

    @property
    def rate(self) -> Decimal | None:
        """The share eliminated, as a percentage to one place (None with nobody counted)."""
        total = self.monitored + self.eliminated
        if not total:
            return None
        return (Decimal(100 * self.eliminated) / total).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class EvaluationCounts:
    """帮扶成效评估 of one quarter (SPEC §6: at least one a quarter per monitoring object)."""

    period: str  # 2026Q3
    households: int  # monitoring objects that owe one
    done: int
    missing_status: DueStatus  # what the others are: due (the quarter runs) or overdue

    @property
    def missing(self) -> int:
        return self.households - self.done


@dataclass(frozen=True)
class Counts:
    """Everything the dashboard shows, on one day, for one area."""

    area_code: str
    on: date
    by_type: dict[str | None, int]
    risks: RiskCounts
    by_area: list[AreaCounts]
    cases: CaseCounts
    per_month: list[MonthCounts]
    progress: Progress
    evaluations: list[EvaluationCounts]  # the quarter before, then the current one


# --- the area counted and its children -------------------------------------------------------


def counted_area(user: Principal, filters: Mapping) -> str:
    """The area the counts are for: ``filters["area_code"]`` if given (an area code, else
    AREA_CODE_INVALID; inside the user's area, else NOT_FOUND), else the user's."""
    area = filters.get("area_code") or user.area_code
    try:
        level_of(area)
    except AreaCodeError as error:
        raise AppError.of(error) from error
    if not area.startswith(user.area_code):
        raise AppError("NOT_FOUND")
    return area


def child_length(area_code: str) -> int:
    """The code length of the areas directly below ``area_code`` (a group has none: its own)."""
    levels = list(CODE_LENGTH)
    index = levels.index(level_of(area_code))
    return CODE_LENGTH[levels[min(index + 1, len(levels) - 1)]]


def _child(column, area_code: str):
    return func.substr(column, 1, child_length(area_code))


# --- one query per table ------------------------------------------------------------------------


def households_by_area(session: Session, user: Principal, area_code: str,
                       today: date) -> HouseholdCounts:
    """Monitoring objects by A3 type and child area, and the households whose risk was
    eliminated by child area, on ``today`` (one query over households)."""
    latest = latest_decisions(today)
    child = _child(Household.area_code, area_code)
    rows = session.execute(
        select(child, Household.monitoring_type, latest.c.procedure, func.count())
        .join(latest, latest.c.household_id == Household.id)
        .where(within(user, Household.area_code), within(area_code, Household.area_code))
        .group_by(child, Household.monitoring_type, latest.c.procedure)).all()
    by_type: dict[str | None, int] = defaultdict(int)
    by_area: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for area, kind, procedure, count in rows:
        if procedure == Procedure.IDENTIFICATION.value:
            by_type[kind] += count
            by_area[area][0] += count
        else:
            by_area[area][1] += count
    return HouseholdCounts(
        by_type=dict(by_type), by_area={k: (v[0], v[1]) for k, v in by_area.items()},
        monitored=sum(v[0] for v in by_area.values()),
        eliminated=sum(v[1] for v in by_area.values()))


def _line(session: Session, area_code: str, year: int) -> Decimal | None:
    try:
        return figure_in_force(session, area_code[:2], year, FigureKind.MONITORING_LINE).value
    except FigureMissing:
        return None


def monitored_by_risk(session: Session, user: Principal, area_code: str,
                      today: date) -> RiskCounts:
    """The numbered risks ①–⑭ of the monitoring objects' latest surveys (one query): ① A34
    below the monitoring line in force this year, ②–④ A23–A25 是, ⑤ A26, ⑥–⑭ the A27 codes
    01–09 (``codes.NUMBERED_RISK_SOURCE``)."""
    monitored = monitored_households(today)
    values = SurveyVersion.household_values

    def one_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    risk_types = literal(" ").concat(
        func.coalesce(values[fields.RISK_TYPES.name].as_string(), "")).concat(" ")
    line = _line(session, area_code, today.year)
    columns = {}
    for number, (code, value) in codes.NUMBERED_RISK_SOURCE.items():
        if number == "1":
            if line is None:
                continue
            condition = SurveyVersion.a34_net_income_per_capita < line
        elif code == fields.MEMBER_UNINSURED.code:
            condition = SurveyVersion.a26_member_uninsured.is_(True)
        elif code == fields.RISK_TYPES.code:
            condition = risk_types.like(f"% {value} %")
        else:
            field = next(f for f in fields.SECURITY_RISKS if f.code == code)
            condition = values[field.name].as_string() == value
        columns[number] = one_if(condition)
    row = session.execute(
        select(func.count(), *columns.values())
        .select_from(Household)
        .join(monitored, monitored.c.household_id == Household.id)
        .join(SurveyVersion, SurveyVersion.id == Household.latest_survey_id)
        .where(within(user, Household.area_code), within(area_code, Household.area_code))
    ).one()
    return RiskCounts(by_risk=dict(zip(columns, (int(n) for n in row[1:]), strict=True)),
                      surveyed=row[0], line=line)


def open_cases(session: Session, user: Principal, area_code: str, today: date) -> CaseCounts:
    """Open cases by procedure and step and by child area, with how many are past their
    deadlines on ``today`` (one query over cases)."""
    child = _child(Case.area_code, area_code)
    late = func.coalesce(func.sum(case((overdue_condition(session, today), 1), else_=0)), 0)
    rows = session.execute(
        select(child, Case.procedure, Case.step, func.count(), late)
        .where(Case.status == Status.OPEN.value, within(user, Case.area_code),
               within(area_code, Case.area_code))
        .group_by(child, Case.procedure, Case.step)).all()
    steps: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    areas: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for area, procedure, step, count, overdue in rows:
        for totals in (steps[(procedure, step)], areas[area]):
            totals[0] += count
            totals[1] += int(overdue)
    return CaseCounts(
        by_step=[StepCounts(procedure, step, *steps.get((procedure.value, step.value), (0, 0)))
                 for procedure, procedure_steps in STEPS.items() for step in procedure_steps],
        by_area={area: (v[0], v[1]) for area, v in areas.items()})


def months_until(today: date, count: int = MONTHS) -> list[str]:
    """The ``count`` months up to ``today``'s, oldest first: ['2025-12', …, '2026-11']."""
    year, month = today.year, today.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


def per_month(session: Session, user: Principal, area_code: str, today: date,
              months: int = MONTHS) -> list[MonthCounts]:
    """Identifications and risk eliminations approved in each of the last ``months`` months
    (one query over cases, grouped by the month of approval in Asia/Shanghai)."""
    labels = months_until(today, months)
    first = date(int(labels[0][:4]), int(labels[0][5:]), 1)
    month = local_month(Case.closed_at)
    rows = session.execute(
        select(month, Case.procedure, func.count())
        .where(Case.status == Status.DONE.value, Case.closed_at >= day_start(first),
               Case.closed_at < day_start(today + timedelta(days=1)),
               within(user, Case.area_code), within(area_code, Case.area_code))
        .group_by(month, Case.procedure)).all()
    found = {(label, procedure): count for label, procedure, count in rows}
    return [MonthCounts(label, found.get((label, Procedure.IDENTIFICATION.value), 0),
                        found.get((label, Procedure.ELIMINATION.value), 0))
            for label in labels]


def evaluation_counts(session: Session, user: Principal, area_code: str, quarter: Period,
                      today: date) -> EvaluationCounts:
    """How many monitoring objects owe ``quarter``'s evaluation and how many have it: the
    monitoring service's status query (``evaluation_status_query``), counted in SQL."""
    rows = evaluation_status_query(user, quarter, today, {"area_code": area_code}).subquery()
    total, done = session.execute(
        select(func.count(), func.coalesce(func.sum(case((rows.c.count > 0, 1), else_=0)), 0))
        .select_from(rows)).one()
    return EvaluationCounts(quarter.label, total, int(done), due_status(False, quarter, today))


def counts(session: Session, user: Principal, today: date, filters: Mapping) -> Counts:
    """Every count of the dashboard for the user's area, or ``filters["area_code"]`` inside
    it, on ``today``."""
    area = counted_area(user, filters)
    households = households_by_area(session, user, area, today)
    cases = open_cases(session, user, area, today)
    children = sorted(set(households.by_area) | set(cases.by_area))
    current = quarter_of(today)
    previous = quarter_of(current.start - timedelta(days=1))
    return Counts(
        area_code=area, on=today, by_type=households.by_type,
        risks=monitored_by_risk(session, user, area, today),
        by_area=[AreaCounts(code, *households.by_area.get(code, (0, 0)),
                            *cases.by_area.get(code, (0, 0))) for code in children],
        cases=cases, per_month=per_month(session, user, area, today),
        progress=Progress(households.monitored, cases.open_in(Procedure.ELIMINATION),
                          households.eliminated),
        evaluations=[evaluation_counts(session, user, area, quarter, today)
                     for quarter in (previous, current)])

