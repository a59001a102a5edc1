"""Each case's age in its step and its overdue flags, by its province's configured deadlines.

The rules are ``server.domain.deadlines`` (working days, ``server.domain.workdays``); the limits
are data (``server.figures``: table ``step_deadlines``, loaded from
``server/data/step-deadlines.csv``, empty as shipped — SPEC §6). A case's province is the first
two digits of its area code. Dates are calendar days in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, false, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from server.auth import within
from server.clock import day_start, local_day
from server.domain.deadlines import Limits, Timing, limits, timing
from server.domain.pipeline import Procedure, Status, Step, notice_closes_on
from server.domain.workdays import earliest_start
from server.figures.services import step_deadlines
from server.pipeline.models import Case
from server.pipeline.services import notice_days


def case_timing(case: Case, today: date, province: Limits) -> Timing:
    """The case's ages on ``today`` (or on the day it was closed) and its overdue flags."""
    is_open = case.status == Status.OPEN.value
    until = local_day(case.closed_at) if not is_open and case.closed_at else today
    procedure = Procedure(case.procedure)
    return timing(local_day(case.step_entered_at), local_day(case.opened_at), until, is_open,
                  province.for_step(procedure, Step(case.step)), province.for_case(procedure))


def case_timings(session: Session, cases: Sequence[Case], today: date) -> list[Timing]:
    """Each case's ``case_timing`` on ``today``: the configured deadlines read with one query
    for all the cases, whatever their provinces."""
    if not cases:
        return []
    configured = step_deadlines(session)
    provinces: dict[str, Limits] = {}
    found = []
    for case in cases:
        province = case.area_code[:2]
        if province not in provinces:
            provinces[province] = limits(configured, province)
        found.append(case_timing(case, today, provinces[province]))
    return found


def notice_ends(session: Session, cases: Sequence[Case]) -> list[date | None]:
    """The first day each case's running public notice may be closed (SPEC §6: 7 full days
    from its start, restarted by a return into the notice); None outside the notice. The
    notice days are read once per province and year among the cases."""
    days: dict[tuple[str, int], int] = {}
    found: list[date | None] = []
    for case in cases:
        if case.status != Status.OPEN.value or case.step != Step.PUBLIC_NOTICE.value \
                or case.notice_started is None:
            found.append(None)
            continue
        key = (case.area_code[:2], case.notice_started.year)
        if key not in days:
            days[key] = notice_days(session, case.area_code, case.notice_started.year)
        found.append(notice_closes_on(case.notice_started, days[key]))
    return found


def overdue_condition(session: Session, today: date) -> ColumnElement[bool]:
    """SQL: the open cases past their step's deadline or their whole procedure's.

    A step entered on a day before ``earliest_start(today, limit)`` is more than ``limit``
    working days old, so the condition is a plain comparison of ``step_entered_at`` (or
    ``opened_at``) with that day's midnight in Asia/Shanghai, per configured limit.
    """
    conditions = []
    for deadline in step_deadlines(session):
        cutoff = day_start(earliest_start(today, deadline.workdays))
        where = and_(within(deadline.province, Case.area_code),
                     Case.procedure == deadline.procedure.value)
        if deadline.step is None:
            conditions.append(and_(where, Case.opened_at < cutoff))
        else:
            conditions.append(and_(where, Case.step == deadline.step.value,
                                   Case.step_entered_at < cutoff))
    if not conditions:
        return false()
    return and_(Case.status == Status.OPEN.value, or_(*conditions))
