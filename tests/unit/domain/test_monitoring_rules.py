"""server.domain.monitoring: quarters, half-years and what is due (issue 6, SPEC §6 "dynamic
management": an evaluation a quarter, a sweep each half-year)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

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

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(days)
def test_every_day_is_in_exactly_one_quarter_and_one_half_year(day):
    quarter, half = quarter_of(day), half_year_of(day)

    assert day in quarter and day in half
    assert quarter.start <= day <= quarter.end and half.start <= day <= half.end
    assert quarter_of(quarter.end + timedelta(days=1)) != quarter
    assert quarter_of(quarter.start - timedelta(days=1)) != quarter
    assert half_year_of(half.end + timedelta(days=1)) != half
    assert parse_period(quarter.label) == quarter and parse_period(half.label) == half


def test_labels_and_bounds():
    assert quarter_of(date(2026, 8, 15)) == Period(2026, 3, 3)
    assert parse_period("2026Q3").start == date(2026, 7, 1)
    assert parse_period("2026Q3").end == date(2026, 9, 30)
    assert parse_period("2024Q1").end == date(2024, 3, 31)
    assert parse_period("2026H1").end == date(2026, 6, 30)
    assert parse_period("2026H2").label == "2026H2" and str(half_year_of(date(2026, 12, 31)))


@pytest.mark.parametrize("label", ["2026Q5", "2026H3", "26Q1", "2026q1", "", "1999Q1"])
def test_a_bad_label_is_refused(label):
    with pytest.raises(PeriodInvalid):
        parse_period(label)


def test_done_due_overdue():
    """Done with a record in the period; due while it runs; overdue from the day after it ends."""
    q = parse_period("2026Q3")

    assert due_status(True, q, date(2026, 12, 1)) is DueStatus.DONE
    assert due_status(False, q, date(2026, 9, 30)) is DueStatus.DUE
    assert due_status(False, q, date(2026, 10, 1)) is DueStatus.OVERDUE


def test_record_dates():
    today = date(2026, 7, 10)
    check_record_date(today, today, parse_period("2026H2"))
    with pytest.raises(RecordDateError) as future:
        check_record_date(today + timedelta(days=1), today)
    with pytest.raises(RecordDateError) as outside:
        check_record_date(date(2026, 6, 30), today, parse_period("2026H2"))

    assert future.value.code == "DATE_IN_FUTURE"
    assert outside.value.code == "DATE_OUTSIDE_PERIOD"
