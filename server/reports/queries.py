"""Counts for the county (SPEC §7 "counts by area, type, risk and step"): what the console's
dashboard shows and what ``GET /api/v1/reports/counts`` is to answer — one read service.

Every count is grouped in SQL, one query per table read, scoped to the user's area
(``within``) and narrowed by ``filters["area_code"]`` when given:

- households (``households_by_area``): the monitoring objects by child area, A3 type and
  numbered risk ①–⑭ (SPEC §4; their latest survey's, as the take-in wrote them beside the
  A3 type: ``Household.numbered_risks``), the households whose risk was eliminated, the quarterly
  evaluations owed and done — who is monitored is ``server.monitoring.services``' one rule
  (``latest_decisions``);
- open cases (``open_cases``): by child area, procedure and step, overdue apart (the
  configured deadlines, ``server.pipeline.deadlines``);
- closed cases (``per_month``): identifications and eliminations approved per month, the
  month of the approval in Asia/Shanghai (SQLite and PostgreSQL group dates differently:
  ``local_month``);

``counts`` gathers them all for one page or one API answer; ``cached_counts`` keeps them a
few minutes per area, for as long as nothing they count has changed (``data_version``).
Nothing is masked: no personal data is in a count.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import String, case, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from server.accounts.models import User
from server.areas.services import area_names
from server.auth import Principal, within
from server.clock import day_start
from server.domain import codes
from server.domain.areas import CODE_LENGTH, AreaCodeError, AreaLevel, contains, level_of
from server.domain.monitoring import DueStatus, due_status, quarter_of
from server.domain.pipeline import PROCEDURE_NAMES, STEP_NAMES, STEPS, Procedure, Status, Step
from server.domain.roles import Role
from server.domain.workdays import earliest_start
from server.errors import AppError
from server.households.models import Household, SurveyVersion, risk_pattern
from server.monitoring.models import AssistanceEvaluation
from server.monitoring.services import evaluated_in, latest_decisions, monitored
from server.pipeline.deadlines import overdue_condition
from server.pipeline.models import Case, CaseEvent

# Who reads the counts: the county's staff, and a township its own (the console's 统计看板).
COUNTING_ROLES = (Role.COUNTY, Role.ADMIN, Role.TOWNSHIP)

COUNTY_LENGTH = CODE_LENGTH[AreaLevel.COUNTY]
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
    monitored_people: int = 0  # the monitoring objects' living members


@dataclass(frozen=True)
class HouseholdCounts:
    by_type: dict[str | None, int]  # monitoring objects by A3 code (None: not given)
    by_area: dict[str, tuple[int, int]]  # child area → (monitored, eliminated)
    monitored: int
    eliminated: int
    people_by_type: dict[str | None, int]  # their living members (the registry's size)
    people_by_area: dict[str, int]
    risks: RiskCounts
    evaluations: list[EvaluationCounts]  # the quarter before, then the current one


# The age of an open case in its step, in working days (SPEC §6 counts them so): 0–5, 6–10,
# 11–20, over 20.
AGE_LIMITS = (5, 10, 20)
AGE_LABELS = ("0–5", "6–10", "11–20", "20+")


@dataclass(frozen=True)
class StepCounts:
    procedure: Procedure
    step: Step
    open: int
    overdue: int
    by_age: tuple[int, ...] = (0,) * len(AGE_LABELS)  # open cases per AGE_LABELS bucket


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
    people_by_type: dict[str | None, int]
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
    if not contains(user.area_code, area):
        raise AppError("NOT_FOUND")
    return area


def child_length(area_code: str) -> int:
    """The code length of the areas directly below ``area_code`` (a group has none: its own)."""
    levels = list(CODE_LENGTH)
    index = levels.index(level_of(area_code))
    return CODE_LENGTH[levels[min(index + 1, len(levels) - 1)]]


def _child(column, area_code: str):
    return func.substr(column, 1, child_length(area_code))


@dataclass(frozen=True)
class AreaPopulation:
    """Who lives and works in each area directly below the one counted (the console's 区划
    page): households registered, active user accounts. A user bound to the counted area itself
    is counted under its own code."""

    households: dict[str, int]
    users: dict[str, int]


def area_population(session: Session, user: Principal, area_code: str) -> AreaPopulation:
    """One grouped query over households, one over users, inside the user's area."""
    def grouped(column, *where):
        child = _child(column, area_code)
        return dict(session.execute(
            select(child, func.count()).where(within(user, column), within(area_code, column),
                                              *where).group_by(child)).all())
    return AreaPopulation(households=grouped(Household.area_code),
                          users=grouped(User.area_code, User.active.is_(True)))


# --- one query per table ------------------------------------------------------------------------


def households_by_area(session: Session, user: Principal, area_code: str,
                       today: date) -> HouseholdCounts:
    """The households with a finished procedure, in one query over households: the
    monitoring objects by A3 type, child area and numbered risk (their latest survey's), the
    households whose risk was eliminated by child area, and the evaluations owed for this
    quarter and the one before (``evaluation_status_query``'s rule: owed by the monitoring
    objects of the quarter's last day, or today's; done by one dated in the quarter).

    One pass over the finished cases decides who is monitored today and at the end of the
    quarter before (``latest_decisions`` with both days)."""
    current = quarter_of(today)
    previous = quarter_of(current.start - timedelta(days=1))
    # Below the county, only the area's own households' cases are read (a township's
    # workbench and dashboard); a county reads all of its cases anyway.
    decisions = latest_decisions(today, previous.end,
                                 area_code=area_code if len(area_code) > COUNTY_LENGTH else None)
    now, before = monitored(decisions), monitored(decisions, 1)
    this_quarter, last_quarter = evaluated_in(current), evaluated_in(previous)
    child = _child(Household.area_code, area_code)
    numbers = [item.code for item in codes.NUMBERED_RISKS.codes]
    rows = session.execute(
        select(child, Household.monitoring_type, now, before, func.count(),
               func.coalesce(func.sum(Household.size), 0),
               func.count(Household.latest_survey_id), func.count(this_quarter.c.household_id),
               func.count(last_quarter.c.household_id),
               *(func.sum(case((Household.numbered_risks.like(risk_pattern(n)), 1), else_=0))
                 for n in numbers))
        .join(decisions, decisions.c.household_id == Household.id)
        .outerjoin(this_quarter, this_quarter.c.household_id == Household.id)
        .outerjoin(last_quarter, last_quarter.c.household_id == Household.id)
        .where(within(user, Household.area_code), within(area_code, Household.area_code))
        .group_by(child, Household.monitoring_type, now, before)).all()
    by_type: dict[str | None, int] = defaultdict(int)
    by_area: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    people_by_type: dict[str | None, int] = defaultdict(int)
    people_by_area: dict[str, int] = defaultdict(int)
    risks = dict.fromkeys(numbers, 0)
    surveyed = 0
    owed = {"current": [0, 0], "previous": [0, 0]}  # (households, done)
    for (area, kind, is_now, was_before, count, people, with_survey, done, done_before,
         *found) in rows:
        if was_before:
            owed["previous"][0] += count
            owed["previous"][1] += done_before
        if not is_now:
            by_area[area][1] += count
            continue
        by_type[kind] += count
        by_area[area][0] += count
        people_by_type[kind] += int(people)
        people_by_area[area] += int(people)
        surveyed += with_survey
        owed["current"][0] += count
        owed["current"][1] += done
        for number, hits in zip(numbers, found, strict=True):
            risks[number] += int(hits or 0)
    return HouseholdCounts(
        by_type=dict(by_type), by_area={k: (v[0], v[1]) for k, v in by_area.items()},
        monitored=sum(v[0] for v in by_area.values()),
        eliminated=sum(v[1] for v in by_area.values()),
        people_by_type=dict(people_by_type), people_by_area=dict(people_by_area),
        risks=RiskCounts(risks, surveyed),
        evaluations=[EvaluationCounts(quarter.label, *owed[key],
                                      due_status(False, quarter, today))
                     for key, quarter in (("previous", previous), ("current", current))])


def open_cases(session: Session, user: Principal, area_code: str, today: date) -> CaseCounts:
    """Open cases by procedure and step and by child area, with how many are past their
    deadlines on ``today`` (one query over cases)."""
    child = _child(Case.area_code, area_code)
    late = func.coalesce(func.sum(case((overdue_condition(session, today), 1), else_=0)), 0)
    age = case(*((Case.step_entered_at >= day_start(earliest_start(today, limit)), index)
                 for index, limit in enumerate(AGE_LIMITS)), else_=len(AGE_LIMITS))
    rows = session.execute(
        select(child, Case.procedure, Case.step, age, func.count(), late)
        .where(Case.status == Status.OPEN.value, within(user, Case.area_code),
               within(area_code, Case.area_code))
        .group_by(child, Case.procedure, Case.step, age)).all()
    steps: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    ages: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(AGE_LABELS))
    areas: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for area, procedure, step, bucket, count, overdue in rows:
        ages[(procedure, step)][int(bucket)] += count
        for totals in (steps[(procedure, step)], areas[area]):
            totals[0] += count
            totals[1] += int(overdue)
    return CaseCounts(
        by_step=[StepCounts(procedure, step,
                            *steps.get((procedure.value, step.value), (0, 0)),
                            tuple(ages[(procedure.value, step.value)]))
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


def counts(session: Session, user: Principal, today: date, filters: Mapping) -> Counts:
    """Every count of the dashboard for the user's area, or ``filters["area_code"]`` inside
    it, on ``today``."""
    area = counted_area(user, filters)
    _custom_plans(session)
    households = households_by_area(session, user, area, today)
    cases = open_cases(session, user, area, today)
    children = sorted(set(households.by_area) | set(cases.by_area))
    return Counts(
        area_code=area, on=today, by_type=households.by_type,
        people_by_type=households.people_by_type, risks=households.risks,
        by_area=[AreaCounts(code, *households.by_area.get(code, (0, 0)),
                            *cases.by_area.get(code, (0, 0)),
                            households.people_by_area.get(code, 0)) for code in children],
        cases=cases, per_month=per_month(session, user, area, today),
        progress=Progress(households.monitored, cases.open_in(Procedure.ELIMINATION),
                          households.eliminated),
        evaluations=households.evaluations)



def _custom_plans(session: Session) -> None:
    """PostgreSQL: plan these statements for their own values every time, in this transaction.

    psycopg prepares a statement on the server once a connection has run it five times, and
    PostgreSQL then tries one generic plan for any values; for these counts (an area prefix,
    a day) it judged one with nested loops over every household cheaper, and it ran for 30 s
    instead of a fraction of one (bench_console). Planning them again costs milliseconds."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


# --- kept briefly ----------------------------------------------------------------------------


def data_version(session: Session) -> tuple:
    """The newest case event, survey version and evaluation (their ids, one indexed lookup
    each): what the counts are made of changes only with one of them — every case action
    writes an event, every survey (a household's type, risks, area) a version. Step deadlines
    and yearly figures are not in it: a change of theirs shows once the kept counts expire."""
    return tuple(session.execute(select(
        select(func.max(CaseEvent.id)).scalar_subquery(),
        select(func.max(SurveyVersion.id)).scalar_subquery(),
        select(func.max(AssistanceEvaluation.id)).scalar_subquery())).one())


@dataclass(frozen=True)
class _Kept:
    version: tuple
    stored: float
    counts: Counts


_kept: weakref.WeakKeyDictionary[Engine, dict[tuple[str, date], _Kept]] = \
    weakref.WeakKeyDictionary()
_kept_lock = threading.Lock()
_KEPT_AREAS = 2_000  # areas kept per database at most (a county has a few hundred)


def cached_counts(session: Session, user: Principal, today: date, filters: Mapping,
                  seconds: float, clock: Callable[[], float] = time.monotonic) -> Counts:
    """``counts``, kept per area and day for at most ``seconds`` (0: never kept) and only
    while ``data_version`` is unchanged: a county's dashboard reads 250 000 households, and is
    opened again and again while nothing changes. The counts of an area are the same for every
    user who may read it (it lies inside their area), so they are kept per area, not per user.
    Each server process keeps its own."""
    area = counted_area(user, filters)
    if seconds <= 0:
        return counts(session, user, today, {"area_code": area})
    version = data_version(session)
    key = (area, today)
    with _kept_lock:
        kept = _kept.setdefault(session.get_bind(), {})
        found = kept.get(key)
    if found is not None and found.version == version and clock() - found.stored < seconds:
        return found.counts
    fresh = counts(session, user, today, {"area_code": area})
    with _kept_lock:
        if len(kept) >= _KEPT_AREAS:
            kept.clear()
        kept[key] = _Kept(version, clock(), fresh)
    return fresh


# --- as the REST API answers -------------------------------------------------------------------


def counts_view(session: Session, found: Counts) -> dict:
    """The counts as ``reports.schemas.CountsSchema`` dumps them: codes with their Chinese
    labels, areas with their names (one query)."""
    names = area_names(session, found.area_code)
    return {
        "area_code": found.area_code, "on": found.on,
        "monitored": found.progress.monitored, "eliminated": found.progress.eliminated,
        "monitored_people": sum(found.people_by_type.values()),
        "surveyed": found.risks.surveyed,
        "by_type": [{"code": code, "households": count,
                     "people": found.people_by_type.get(code, 0),
                     "label": codes.MONITORING_TYPE.label(code) if code else "未填写"}
                    for code, count in sorted(found.by_type.items(),
                                              key=lambda item: item[0] or "~")],
        "by_risk": [{"code": item.code, "label": item.label,
                     "households": found.risks.by_risk.get(item.code, 0)}
                    for item in codes.NUMBERED_RISKS.codes],
        "by_area": [{**vars(area), "name": names.get(area.area_code, area.area_code)}
                    for area in found.by_area],
        "open_cases": found.cases.open, "overdue_cases": found.cases.overdue,
        "by_step": [{"procedure": step.procedure.value,
                     "procedure_name": PROCEDURE_NAMES[step.procedure],
                     "step": step.step.value, "step_name": STEP_NAMES[step.step],
                     "open": step.open, "overdue": step.overdue,
                     "by_age": dict(zip(AGE_LABELS, step.by_age, strict=True))}
                    for step in found.cases.by_step],
        "per_month": [vars(month) for month in found.per_month],
        "progress": {"monitored": found.progress.monitored,
                     "eliminating": found.progress.eliminating,
                     "eliminated": found.progress.eliminated, "rate": found.progress.rate},
        "evaluations": [{"period": e.period, "households": e.households, "done": e.done,
                         "missing": e.missing, "missing_status": e.missing_status.value}
                        for e in found.evaluations],
    }
