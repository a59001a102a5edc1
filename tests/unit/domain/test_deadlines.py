"""server.domain.deadlines: a case's age in its step and its overdue flags (issue 6, SPEC §6:
"step deadlines are configurable data, empty by default")."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.deadlines import (
    NO_LIMITS,
    DeadlineInvalid,
    StepDeadline,
    limits,
    timing,
)
from server.domain.pipeline import Procedure, Step
from server.domain.workdays import add_workdays, workdays_between

HUNAN = "43"
ID, EL = Procedure.IDENTIFICATION, Procedure.ELIMINATION
CONFIGURED = [
    StepDeadline(HUNAN, ID, Step.APPLICATION, 2, "县级规定"),
    StepDeadline(HUNAN, ID, None, 20, "县级规定"),
    StepDeadline("44", ID, Step.APPLICATION, 5, "另一省"),
]


def test_nothing_is_configured_by_default_so_nothing_is_overdue():
    """SPEC §6: no deadline beyond the notice unless a province sets one."""
    t = timing(date(2026, 1, 5), date(2026, 1, 5), date(2026, 12, 31), True,
               NO_LIMITS.for_step(ID, Step.APPLICATION), NO_LIMITS.for_case(ID))

    assert t.age_in_step == workdays_between(date(2026, 1, 5), date(2026, 12, 31))
    assert (t.step_deadline, t.deadline, t.step_overdue, t.overdue) == (None, None, False, False)


def test_limits_are_per_province_procedure_and_step():
    hunan = limits(CONFIGURED, HUNAN)

    assert hunan.for_step(ID, Step.APPLICATION) == 2
    assert hunan.for_step(ID, Step.VERIFICATION) is None
    assert hunan.for_step(EL, Step.PROPOSAL) is None
    assert hunan.for_case(ID) == 20 and hunan.for_case(EL) is None


def test_a_self_declaration_checked_within_two_working_days():
    """Received Friday 13 Feb 2026: Saturday 14 Feb is a working day (调休), then 春节; the
    deadline is Tuesday 24 Feb, overdue from Wednesday 25 Feb."""
    received = date(2026, 2, 13)

    on_time = timing(received, received, date(2026, 2, 24), True, 2, None)
    late = timing(received, received, date(2026, 2, 25), True, 2, None)

    assert on_time.step_deadline == date(2026, 2, 24) and on_time.age_in_step == 2
    assert not on_time.step_overdue
    assert late.step_overdue and late.age_in_step == 3 and late.any_overdue


def test_a_closed_case_is_never_overdue_and_its_age_stops():
    t = timing(date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 31), False, 2, 5)

    assert t.age_in_step == 21 and not t.step_overdue and not t.overdue


@given(st.dates(min_value=date(2021, 1, 1), max_value=date(2027, 6, 30)),
       st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=200))
def test_overdue_exactly_when_the_age_passes_the_limit(entered, limit, days_later):
    today = date.fromordinal(entered.toordinal() + days_later)

    t = timing(entered, entered, today, True, limit, limit)

    assert t.step_overdue == (t.age_in_step > limit) == (today > t.step_deadline and
                                                         workdays_between(t.step_deadline,
                                                                          today) > 0)
    assert t.step_deadline == add_workdays(entered, limit)
    assert t.overdue == t.step_overdue


@pytest.mark.parametrize("bad", [
    dict(procedure=ID, step=Step.PROPOSAL, workdays=2),  # a step of the other procedure
    dict(procedure=EL, step=Step.APPLICATION, workdays=2),
    dict(procedure=ID, step=Step.APPLICATION, workdays=-1),
    dict(procedure=ID, step=None, workdays=366),
])
def test_a_deadline_must_fit_its_procedure_and_be_sensible(bad):
    with pytest.raises(DeadlineInvalid):
        StepDeadline(HUNAN, document="", **bad)


def test_a_deadline_in_a_year_not_yet_published_is_flagged_as_an_estimate():
    """SPEC §6 (deadlines in working days): a step entered on Friday 4 Dec 2026 with 20
    working days is due on Monday 4 Jan 2027, not on 元旦; the count reaches 2027, whose 调休 is
    not published, so the timing says it is an estimate, with a Chinese note."""
    entered = date(2026, 12, 4)

    reaching = timing(entered, entered, date(2026, 12, 10), True, 20, None)
    within = timing(entered, entered, date(2026, 12, 10), True, 2, None)

    assert reaching.step_deadline == date(2027, 1, 4)
    assert reaching.workdays_estimated and "2027" in reaching.workdays_note
    assert not within.workdays_estimated and within.workdays_note is None
