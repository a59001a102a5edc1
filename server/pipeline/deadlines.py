"""Each case's age in its step and its overdue flags, by its province's configured deadlines.

The rules are ``server.domain.deadlines`` (working days, ``server.domain.workdays``); the limits
are data (``server.figures``: table ``step_deadlines``, loaded from
``server/data/step-deadlines.csv``, empty as shipped — SPEC §6). A case's province is the first
two digits of its area code. Dates are calendar days in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date

from flask import g
from marshmallow import fields, missing
from sqlalchemy import and_, false, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from server import db
from server.auth import within
from server.clock import day_start, local_day
from server.clock import today as clock_today
from server.domain.deadlines import Limits, Timing, limits, timing
from server.domain.pipeline import Procedure, Status, Step, notice_closes_on
from server.domain.workdays import earliest_start
from server.figures.services import step_deadlines
from server.pipeline.models import Case
from server.pipeline.services import notice_days


def province_limits(session: Session, province: str) -> Limits:
    return limits(step_deadlines(session, province), province)


def case_timing(case: Case, today: date, province: Limits) -> Timing:
    """The case's ages on ``today`` (or on the day it was closed) and its overdue flags."""
    is_open = case.status == Status.OPEN.value
    until = local_day(case.closed_at) if not is_open and case.closed_at else today
    procedure = Procedure(case.procedure)
    return timing(local_day(case.step_entered_at), local_day(case.opened_at), until, is_open,
                  province.for_step(procedure, Step(case.step)), province.for_case(procedure))


def timing_in_request(case: Case) -> Timing:
    """``case_timing`` for the case API: limits read once per province and request."""
    cache = g.setdefault("deadline_limits", {})
    province = case.area_code[:2]
    if province not in cache:
        cache[province] = province_limits(db.session(), province)
    return case_timing(case, clock_today(), cache[province])


def notice_can_end_on(case: Case) -> date | None:
    """The first day the case's running public notice may be closed (SPEC §6: 7 full days
    from its start, restarted by a return into the notice); None outside the notice."""
    if case.status != Status.OPEN.value or case.step != Step.PUBLIC_NOTICE.value \
            or case.notice_started is None:
        return None
    cache = g.setdefault("notice_days", {})  # read once per province, year and request
    key = (case.area_code[:2], case.notice_started.year)
    if key not in cache:
        cache[key] = notice_days(db.session(), case.area_code, case.notice_started.year)
    return notice_closes_on(case.notice_started, cache[key])


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


class _FromTiming:
    """A dump-only schema field whose value is one attribute of the case's ``Timing``."""

    def __init__(self, name: str, **kwargs):
        super().__init__(dump_only=True, **kwargs)
        self.timing_name = name

    def get_value(self, obj, attr, accessor=None, default=missing):
        return getattr(timing_in_request(obj), self.timing_name)


class TimingInteger(_FromTiming, fields.Integer):
    pass


class TimingDate(_FromTiming, fields.Date):
    pass


class TimingBoolean(_FromTiming, fields.Boolean):
    pass


class TimingString(_FromTiming, fields.String):
    pass


class NoticeEndDate(fields.Date):
    """A dump-only date field: the case's ``notice_can_end_on``."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, allow_none=True, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=missing):
        return notice_can_end_on(obj)
