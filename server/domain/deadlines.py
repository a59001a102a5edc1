"""Step deadlines of the two procedures, in working days, and a case's age and overdue flags.

SPEC §6: the source sets no deadline beyond the 7-day public notice ("及时"), so deadlines are
configurable data per province, empty by default: a step without a configured limit has no
deadline and is never overdue. A province may set, per procedure, a limit for any step (e.g. an
application — a self-declaration — checked within 2 working days) and one for the whole
procedure (e.g. an identification finished within 20 working days of its opening).

Choices where the source is silent:
- ages are counted in working days (``server.domain.workdays``) after the calendar day
  (Asia/Shanghai) the case entered its step or was opened: 0 on that day itself;
- the deadline is the ``limit``-th working day after that day; a case is overdue from the first
  working day after its deadline on (its age is greater than the limit);
- a closed case (done or rejected) is never overdue; its ages stop at the day it was closed;
- a limit on the public-notice step counts working days like every other step, while the notice
  itself lasts calendar days (the province's notice_days): set it no shorter than the notice;
- a return to an earlier step starts that step's clock again (the age runs from the day the
  case entered the step it is in now);
- a count or deadline that reaches into a year whose holiday arrangement is not published yet
  (``server.domain.workdays.estimated``) is an estimate: ``workdays_estimated`` is true and
  ``workdays_note`` says in Chinese that that year's 调休 working weekends are not known yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from server.domain.catalogue import CatalogueError
from server.domain.pipeline import STEPS, Procedure, Step
from server.domain.workdays import (
    add_workdays,
    estimate_note,
    estimated_years,
    workdays_between,
)

MAX_LIMIT = 365  # working days; anything longer is a typing error


class DeadlineInvalid(CatalogueError):
    """A step deadline the rules refuse: DEADLINE_STEP_UNKNOWN or DEADLINE_WORKDAYS_RANGE."""


@dataclass(frozen=True)
class StepDeadline:
    """A province's limit for one step of a procedure, or for the whole (``step`` None)."""

    province: str  # 2-digit province code, e.g. "43" for 湖南
    procedure: Procedure
    step: Step | None
    workdays: int
    document: str  # where the limit comes from (a provincial notice, a county decision …)

    def __post_init__(self):
        if self.step is not None and self.step not in STEPS[self.procedure]:
            raise DeadlineInvalid("DEADLINE_STEP_UNKNOWN", procedure=self.procedure.value,
                                  step=self.step.value)
        if not 0 <= self.workdays <= MAX_LIMIT:
            raise DeadlineInvalid("DEADLINE_WORKDAYS_RANGE", limit=MAX_LIMIT)


@dataclass(frozen=True)
class Limits:
    """The limits in force for one province: by (procedure, step), and by procedure."""

    steps: dict[tuple[Procedure, Step], int]
    whole: dict[Procedure, int]

    def for_step(self, procedure: Procedure, step: Step) -> int | None:
        return self.steps.get((procedure, step))

    def for_case(self, procedure: Procedure) -> int | None:
        return self.whole.get(procedure)


NO_LIMITS = Limits({}, {})


def limits(deadlines: Iterable[StepDeadline], province: str) -> Limits:
    steps: dict[tuple[Procedure, Step], int] = {}
    whole: dict[Procedure, int] = {}
    for deadline in deadlines:
        if deadline.province != province:
            continue
        if deadline.step is None:
            whole[deadline.procedure] = deadline.workdays
        else:
            steps[(deadline.procedure, deadline.step)] = deadline.workdays
    return Limits(steps, whole)


@dataclass(frozen=True)
class Timing:
    age_in_step: int  # working days since the case entered its step
    step_deadline: date | None  # the last working day allowed for the step, if limited
    step_overdue: bool
    age: int  # working days since the case was opened
    deadline: date | None  # the last working day allowed for the whole procedure, if limited
    overdue: bool
    workdays_estimated: bool = False  # a year counted lacks its published 调休 arrangement
    workdays_note: str | None = None  # the Chinese note saying so

    @property
    def any_overdue(self) -> bool:
        return self.step_overdue or self.overdue


def timing(entered_on: date, opened_on: date, until: date, is_open: bool,
           step_limit: int | None, case_limit: int | None) -> Timing:
    """A case's ages on ``until`` (today, or the day it was closed) and its overdue flags."""
    age_in_step = max(0, workdays_between(entered_on, until))
    age = max(0, workdays_between(opened_on, until))
    step_deadline = None if step_limit is None else add_workdays(entered_on, step_limit)
    deadline = None if case_limit is None else add_workdays(opened_on, case_limit)
    span = [day for day in (entered_on, opened_on, until, step_deadline, deadline) if day]
    years = estimated_years(min(span), max(span))
    return Timing(
        age_in_step=age_in_step, step_deadline=step_deadline,
        step_overdue=is_open and step_limit is not None and age_in_step > step_limit,
        age=age, deadline=deadline,
        overdue=is_open and case_limit is not None and age > case_limit,
        workdays_estimated=bool(years), workdays_note=estimate_note(years),
    )
