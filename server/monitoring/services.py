"""Use cases of dynamic management: evaluations, sweeps, their ledgers, and what is due.

The rules (periods, due / done / overdue, record dates) are ``server.domain.monitoring``.

A **monitored household** (监测对象) on a day is one whose latest procedure finished by that
day is an identification approved by the county (识别程序 done); a risk-elimination approval
(风险消除) ends it, a later identification starts it again. The registry's
``Household.monitoring_type`` (A3) is not used: it is what the survey form says, set before
any identification. ``monitored_households`` is the one place that decides this.

Who may do what (a choice; the source names the levels, not the roles):
- record an evaluation: village and township users (镇村两级), for households in their area;
- open a sweep: county users (and admins), for their county or one of its townships;
- write a sweep's ledger: village, township and county users, for households in their area
  and in the sweep's area;
- read the lists: every role, narrowed to the user's area.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, func, select
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.audit.services import record
from server.auth import Principal, around, check_role, within
from server.clock import day_start, local_day
from server.domain.areas import AreaLevel, contains, level_of
from server.domain.monitoring import (
    DueStatus,
    Period,
    PeriodInvalid,
    RecordDateError,
    check_record_date,
    due_status,
    half_year_of,
    parse_period,
    quarter_of,
)
from server.domain.pipeline import Procedure, Status
from server.domain.roles import Role
from server.errors import AppError
from server.households.models import Household, Person
from server.monitoring.models import AssistanceEvaluation, Sweep, SweepLedgerRow
from server.pipeline.models import Case

EVALUATING_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP})
SWEEP_OPENING_ROLES = frozenset({Role.COUNTY, Role.ADMIN})
LEDGER_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY})
SWEEP_LEVELS = frozenset({AreaLevel.COUNTY, AreaLevel.TOWNSHIP})


def latest_decisions(on: date, *other_days: date, area_code: str | None = None):
    """Subquery (household_id, identified_at, eliminated_at): for each household with a
    procedure finished by ``on``, when its latest identification and its latest risk
    elimination were approved (UTC; None for none). The later of the two decides: a monitoring
    object when ``identified_at`` is later (``monitored``), risk eliminated otherwise.
    ``other_days`` (earlier days) add ``identified_at_1``, ``eliminated_at_1`` … as of those
    days, from the same pass over the cases. ``area_code``: only households inside that area
    now (their cases wherever they were opened), so that a village's or a township's question
    reads its own cases, not the county's.

    Grouped, not ranked: one hash aggregate over the finished cases (a window over them all
    sorts them). A household has one open case at a time and an elimination opens only for a
    monitoring object, so its finished procedures never share a moment."""
    days = (on, *other_days)
    columns = []
    for index, day in enumerate(days):
        end = day_start(day + timedelta(days=1))
        suffix = f"_{index}" if index else ""
        for procedure, name in ((Procedure.IDENTIFICATION, "identified_at"),
                                (Procedure.ELIMINATION, "eliminated_at")):
            columns.append(func.max(case(
                (and_(Case.procedure == procedure.value, Case.closed_at < end), Case.closed_at)))
                .label(name + suffix))
    query = (select(Case.household_id, *columns)
             .where(Case.status == Status.DONE.value, Case.household_id.is_not(None),
                    Case.closed_at < day_start(max(days) + timedelta(days=1)))
             .group_by(Case.household_id))
    if area_code:
        query = query.where(Case.household_id.in_(
            select(Household.id).where(within(area_code, Household.area_code))))
    return query.subquery()


def monitored(decisions, day: int = 0) -> ColumnElement[bool]:
    """SQL, over a ``latest_decisions`` subquery: the household is a monitoring object (on its
    ``day``-th day: 0 the first)."""
    suffix = f"_{day}" if day else ""
    identified = decisions.c["identified_at" + suffix]
    eliminated = decisions.c["eliminated_at" + suffix]
    return identified.is_not(None) & (eliminated.is_(None) | (identified > eliminated))


def monitored_households(on: date, area_code: str | None = None):
    """Subquery (household_id, since): households that are monitoring objects on ``on`` (inside
    ``area_code`` when given).

    ``since`` is when the identification that made them one was approved (UTC).
    """
    decisions = latest_decisions(on, area_code=area_code)
    return (select(decisions.c.household_id, decisions.c.identified_at.label("since"))
            .where(monitored(decisions)).subquery())


def _household_in_area(session: Session, household_id: str, area_code: str) -> Household:
    household = session.get(Household, household_id)
    if household is None or not contains(area_code, household.area_code):
        raise AppError("NOT_FOUND")
    return household


def _check_date(day: date, today: date, period: Period | None = None) -> None:
    try:
        check_record_date(day, today, period)
    except RecordDateError as error:
        raise AppError.of(error) from error


# --- evaluations ------------------------------------------------------------------------------


def record_evaluation(session: Session, user: Principal, household_id: str, evaluated_on: date,
                      evaluator: str, result: str, today: date) -> AssistanceEvaluation:
    """帮扶成效评估 of a monitored household, dated ``evaluated_on`` (not in the future)."""
    check_role(user, EVALUATING_ROLES)
    household = _household_in_area(session, household_id, user.area_code)
    _check_date(evaluated_on, today)
    monitored = monitored_households(evaluated_on)
    if session.scalar(select(monitored.c.household_id)
                      .where(monitored.c.household_id == household.id)) is None:
        raise AppError("HOUSEHOLD_NOT_MONITORED", date=evaluated_on.isoformat())
    if not evaluator.strip() or not result.strip():
        raise AppError("EVALUATION_INCOMPLETE")
    evaluation = AssistanceEvaluation(household_id=household.id, evaluated_on=evaluated_on,
                                      evaluator=evaluator.strip(), result=result.strip(),
                                      recorded_by=user.id)
    session.add(evaluation)
    session.flush()
    record(session, "evaluation.recorded", "household", household.id, user.id,
           evaluation=evaluation.id, evaluated_on=evaluated_on.isoformat(),
           quarter=quarter_of(evaluated_on).label, evaluator=evaluation.evaluator)
    return evaluation


# --- reading: the lists of the REST API, the console and the exports --------------------------
# Each list takes the user (area scope) and a plain mapping of filters, and returns a Select
# the caller pages or streams; ``*_view`` turns what it yields into what is shown.


def period_of(label: str) -> Period:
    """A period asked for by its label (``2026Q3``, ``2026H1``); PERIOD_INVALID otherwise."""
    try:
        return parse_period(label)
    except PeriodInvalid as error:
        raise AppError.of(error) from error


def _due(filters: Mapping) -> DueStatus | None:
    return DueStatus(filters["status"]) if filters.get("status") else None


@dataclass(frozen=True)
class EvaluationView:
    id: int
    household_id: str
    evaluated_on: date
    quarter: str  # the quarter it counts for, e.g. 2026Q3
    evaluator: str
    result: str
    recorded_by: int | None
    recorded_at: datetime


def evaluations_query(user: Principal, filters: Mapping) -> Select:
    """The evaluations (a Select of ``AssistanceEvaluation``) of the households of the user's
    area, latest first, for ``evaluation_view``; ``filters``: ``household_id``."""
    query = (select(AssistanceEvaluation)
             .join(Household, Household.id == AssistanceEvaluation.household_id)
             .where(within(user, Household.area_code))
             .order_by(AssistanceEvaluation.evaluated_on.desc(), AssistanceEvaluation.id.desc()))
    if filters.get("household_id") is not None:
        query = query.where(AssistanceEvaluation.household_id == filters["household_id"])
    return query


def evaluation_view(evaluation: AssistanceEvaluation) -> EvaluationView:
    return EvaluationView(
        id=evaluation.id, household_id=evaluation.household_id,
        evaluated_on=evaluation.evaluated_on, quarter=quarter_of(evaluation.evaluated_on).label,
        evaluator=evaluation.evaluator, result=evaluation.result,
        recorded_by=evaluation.recorded_by, recorded_at=evaluation.recorded_at)


@dataclass(frozen=True)
class EvaluationStatus:
    household_id: str
    area_code: str
    head_name: str | None
    monitored_since: date
    period: str
    status: DueStatus
    evaluations_in_period: int
    last_evaluated_on: date | None


def asked_quarter(filters: Mapping, today: date) -> Period:
    """The quarter ``filters["quarter"]`` names, else the one ``today`` is in."""
    return period_of(filters["quarter"]) if filters.get("quarter") else quarter_of(today)


def evaluation_status_query(user: Principal, quarter: Period, today: date,
                            filters: Mapping) -> Select:
    """Monitored households of the user's area with their evaluation count in ``quarter``,
    for ``evaluation_status_rows``; ``filters``: ``status`` (a ``DueStatus`` value),
    ``area_code``.

    A household counts for a quarter when it is a monitoring object on the quarter's last day
    (or today, for the quarter under way); rows are (Household, head name, since, count, last).
    """
    area_code = filters.get("area_code")
    if quarter.start > today:
        raise AppError("PERIOD_NOT_STARTED", period=quarter.label)
    on = min(quarter.end, today)
    monitored = monitored_households(on, area_code or user.area_code)
    in_quarter = (select(func.count()).select_from(AssistanceEvaluation)
                  .where(AssistanceEvaluation.household_id == Household.id,
                         AssistanceEvaluation.evaluated_on >= quarter.start,
                         AssistanceEvaluation.evaluated_on <= quarter.end)
                  .scalar_subquery())
    last = (select(func.max(AssistanceEvaluation.evaluated_on))
            .where(AssistanceEvaluation.household_id == Household.id,
                   AssistanceEvaluation.evaluated_on <= on)
            .scalar_subquery())
    query = (select(Household.id, Household.area_code, Person.name, monitored.c.since,
                    in_quarter.label("count"), last.label("last"))
             .join(monitored, monitored.c.household_id == Household.id)
             .outerjoin(Person, Person.id == Household.head_person_id)
             .where(within(user, Household.area_code))
             .order_by(Household.area_code, Household.id))
    if area_code:
        query = query.where(within(area_code, Household.area_code))
    return _filter_status(query, in_quarter > 0, quarter, today, _due(filters))


def evaluated_in(quarter: Period):
    """Subquery (household_id): the households with an evaluation dated inside ``quarter``
    (the rule of ``evaluation_status_query``: done once one is dated in the quarter)."""
    return (select(AssistanceEvaluation.household_id)
            .where(AssistanceEvaluation.evaluated_on >= quarter.start,
                   AssistanceEvaluation.evaluated_on <= quarter.end)
            .distinct().subquery())


def _filter_status(query: Select, done, period: Period, today: date,
                   status: DueStatus | None) -> Select:
    if status is None:
        return query
    if status is DueStatus.DONE:
        return query.where(done)
    ended = today > period.end
    if (status is DueStatus.OVERDUE) != ended:
        return query.where(false())
    return query.where(~done)


def evaluation_status_rows(rows, quarter: Period, today: date) -> list[EvaluationStatus]:
    return [EvaluationStatus(
        household_id=row.id, area_code=row.area_code, head_name=row.name,
        monitored_since=local_day(row.since), period=quarter.label,
        status=due_status(row.count > 0, quarter, today), evaluations_in_period=row.count,
        last_evaluated_on=row.last) for row in rows]


# --- sweeps -----------------------------------------------------------------------------------


def open_sweep(session: Session, user: Principal, area_code: str, half_year: Period,
               today: date) -> Sweep:
    """集中排查 of a county or township for a half-year that has started.

    One sweep per household and half-year (SPEC §6: "上下半年各 1 次", one ledger): a sweep
    whose area overlaps another sweep of the same half-year — a township inside a county that
    has one, a county one of whose townships has one, the same area again — is refused with
    the sweep that covers it (a choice: joining would hand back a sweep of another area, under
    another opener; the township's users already see and write the county's sweep). A
    half-year that has not started has nothing to check yet: refused too. Opens of one county
    are serialised on its area row (PostgreSQL), so two racing opens cannot both pass the check.
    """
    check_role(user, SWEEP_OPENING_ROLES)
    if half_year.months != 6:
        raise AppError("PERIOD_INVALID", period=half_year.label)
    area = session.get(Area, area_code)
    if area is None or not contains(user.area_code, area_code):
        raise AppError("NOT_FOUND")
    if level_of(area_code) not in SWEEP_LEVELS:
        raise AppError("SWEEP_AREA_LEVEL")
    if half_year.start > today:
        raise AppError("SWEEP_NOT_STARTED", period=half_year.label,
                       start=half_year.start.isoformat())
    session.scalar(select(Area.code).where(Area.code == area_code[:6])
                   .with_for_update(key_share=True))
    overlapping = session.execute(
        select(Sweep.id, Sweep.area_code).where(
            Sweep.period == half_year.label,
            within(area_code, Sweep.area_code) | around(area_code, Sweep.area_code))
        .order_by(Sweep.id)).first()
    if overlapping is not None:
        code = "SWEEP_EXISTS" if overlapping.area_code == area_code else "SWEEP_OVERLAPS"
        raise AppError(code, area_code=overlapping.area_code, period=half_year.label,
                       sweep_id=overlapping.id)
    sweep = Sweep(area_code=area_code, period=half_year.label, starts_on=half_year.start,
                  ends_on=half_year.end, opened_by=user.id)
    session.add(sweep)
    session.flush()
    record(session, "sweep.opened", "sweep", sweep.id, user.id, area_code=area_code,
           period=half_year.label)
    return sweep


def _visible(user: Principal):
    """Sweeps of the user's area, and the sweeps that cover it (a village sees its county's)."""
    return within(user, Sweep.area_code) | around(user, Sweep.area_code)


def sweeps_query(user: Principal, filters: Mapping) -> Select:
    """The sweeps (a Select of ``Sweep``) of the user's area and covering it, latest first, for
    ``sweep_view``; ``filters``: ``half_year`` (a label, e.g. 2026H1)."""
    query = select(Sweep).where(_visible(user)).order_by(Sweep.starts_on.desc(), Sweep.area_code)
    if filters.get("half_year"):
        query = query.where(Sweep.period == period_of(filters["half_year"]).label)
    return query


@dataclass(frozen=True)
class SweepView:
    id: int
    area_code: str
    period: str
    starts_on: date
    ends_on: date
    opened_by: int | None
    opened_at: datetime
    households: int  # to check, in the reader's area
    checked: int
    status: str  # a DueStatus value


def sweep_view(session: Session, sweep: Sweep, user: Principal, today: date) -> SweepView:
    """The sweep with its counts in the user's area (one query)."""
    counts = sweep_counts(session, sweep, user, today)
    return SweepView(id=sweep.id, area_code=sweep.area_code, period=sweep.period,
                     starts_on=sweep.starts_on, ends_on=sweep.ends_on,
                     opened_by=sweep.opened_by, opened_at=sweep.opened_at,
                     households=counts.households, checked=counts.done,
                     status=counts.status.value)


def sweep_in_view(session: Session, sweep_id: int, user: Principal) -> Sweep:
    sweep = session.scalar(select(Sweep).where(Sweep.id == sweep_id, _visible(user)))
    if sweep is None:
        raise AppError("NOT_FOUND")
    return sweep


def record_ledger_row(session: Session, user: Principal, sweep_id: int, household_id: str,
                      checked_on: date, finding: str, today: date) -> SweepLedgerRow:
    """One row of the sweep ledger (排查台账): a household checked on a day in the half-year."""
    check_role(user, LEDGER_ROLES)
    sweep = sweep_in_view(session, sweep_id, user)
    household = _household_in_area(session, household_id, user.area_code)
    if not contains(sweep.area_code, household.area_code):
        raise AppError("NOT_FOUND")
    _check_date(checked_on, today, sweep_period(sweep))
    if not finding.strip():
        raise AppError("SWEEP_FINDING_REQUIRED")
    row = SweepLedgerRow(sweep_id=sweep.id, household_id=household.id, checked_on=checked_on,
                         finding=finding.strip(), recorded_by=user.id)
    session.add(row)
    session.flush()
    record(session, "sweep.checked", "household", household.id, user.id, sweep=sweep.id,
           row=row.id, checked_on=checked_on.isoformat(), period=sweep.period)
    return row


def sweep_period(sweep: Sweep) -> Period:
    return half_year_of(sweep.starts_on)


def ledger_query(sweep: Sweep, user: Principal) -> Select:
    """The sweep's ledger rows (a Select of ``SweepLedgerRow``) of the user's area."""
    return (select(SweepLedgerRow)
            .join(Household, Household.id == SweepLedgerRow.household_id)
            .where(SweepLedgerRow.sweep_id == sweep.id,
                   within(user, Household.area_code))
            .order_by(SweepLedgerRow.id))


def sweep_households_query(sweep: Sweep, user: Principal, today: date,
                           filters: Mapping | None = None) -> Select:
    """Every household of the sweep's area (and the user's) registered by the half-year's end,
    with its ledger rows in the sweep: (Household, head name, rows, last checked, last row id),
    for ``sweep_household_views``; ``filters``: ``status`` (a ``DueStatus`` value).
    """
    period = sweep_period(sweep)
    rows = (select(func.count()).select_from(SweepLedgerRow)
            .where(SweepLedgerRow.sweep_id == sweep.id,
                   SweepLedgerRow.household_id == Household.id).scalar_subquery())
    last = (select(func.max(SweepLedgerRow.checked_on))
            .where(SweepLedgerRow.sweep_id == sweep.id,
                   SweepLedgerRow.household_id == Household.id).scalar_subquery())
    latest = (select(func.max(SweepLedgerRow.id))
              .where(SweepLedgerRow.sweep_id == sweep.id,
                     SweepLedgerRow.household_id == Household.id).scalar_subquery())
    query = (select(Household.id, Household.area_code, Person.name, rows.label("count"),
                    last.label("last"), latest.label("latest"))
             .outerjoin(Person, Person.id == Household.head_person_id)
             .where(within(sweep.area_code, Household.area_code),
                    within(user, Household.area_code),
                    Household.created_at < day_start(period.end + timedelta(days=1)))
             .order_by(Household.area_code, Household.id))
    done = exists().where(SweepLedgerRow.sweep_id == sweep.id,
                          SweepLedgerRow.household_id == Household.id)
    return _filter_status(query, done, period, today, _due(filters or {}))


@dataclass(frozen=True)
class SweepHousehold:
    household_id: str
    area_code: str
    head_name: str | None
    status: str  # a DueStatus value
    rows: int
    last_checked_on: date | None
    finding: str | None  # of its latest ledger row


def sweep_household_views(session: Session, sweep: Sweep, rows, today: date
                          ) -> list[SweepHousehold]:
    """Rows of ``sweep_households_query`` with their latest findings (one query for them all)."""
    latest = [r.latest for r in rows if r.latest]
    found = dict(session.execute(select(SweepLedgerRow.id, SweepLedgerRow.finding)
                                 .where(SweepLedgerRow.id.in_(latest))).all()) if latest else {}
    period = sweep_period(sweep)
    return [SweepHousehold(household_id=r.id, area_code=r.area_code, head_name=r.name,
                           status=due_status(r.count > 0, period, today).value, rows=r.count,
                           last_checked_on=r.last, finding=found.get(r.latest)) for r in rows]


@dataclass(frozen=True)
class SweepCounts:
    households: int
    done: int
    status: DueStatus  # done when every household is checked


def sweep_counts(session: Session, sweep: Sweep, user: Principal, today: date) -> SweepCounts:
    counted = sweep_households_query(sweep, user, today).subquery()
    total, checked = session.execute(
        select(func.count(), func.coalesce(func.sum(case((counted.c.count > 0, 1), else_=0)), 0))
        .select_from(counted)).one()
    return SweepCounts(total, checked, due_status(total == checked, sweep_period(sweep), today))
