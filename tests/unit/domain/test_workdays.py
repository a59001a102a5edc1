"""server.domain.workdays: China's working days, with statutory holidays and 调休 (issue 6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.workdays import (
    add_workdays,
    covered,
    earliest_start,
    is_workday,
    workdays_between,
)

# From the State Council's notices (国务院办公厅关于部分节假日安排的通知), written out here so the
# tests do not just read back the package's own table.
HOLIDAYS = [
    *(date(2021, 2, d) for d in range(11, 18)),  # 2021 春节 2月11日–17日
    *(date(2024, 2, d) for d in range(10, 18)),  # 2024 春节 2月10日–17日
    *(date(2025, 10, d) for d in range(1, 9)),  # 2025 国庆、中秋 10月1日–8日
    date(2026, 1, 1), date(2026, 1, 2),  # 2026 元旦 1月1日–3日
    *(date(2026, 2, d) for d in range(15, 24)),  # 2026 春节 2月15日–23日
    *(date(2026, 10, d) for d in range(1, 8)),  # 2026 国庆 10月1日–7日
]
ADJUSTED_WORKDAYS = [  # weekend days that are working days (调休上班)
    date(2021, 2, 7), date(2021, 2, 20),
    date(2024, 2, 4), date(2024, 2, 18),
    date(2025, 9, 28), date(2025, 10, 11),
    date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20),
    date(2026, 10, 10),
]

days = st.dates(min_value=date(2021, 1, 1), max_value=date(2027, 12, 31))
counts = st.integers(min_value=0, max_value=120)


@given(days, counts)
def test_adding_n_working_days_then_counting_gives_n(start, n):
    end = add_workdays(start, n)

    assert workdays_between(start, end) == n
    assert n == 0 or is_workday(end)


@given(days, st.integers(min_value=0, max_value=400))
def test_the_count_is_the_number_of_working_days_after_start(start, length):
    end = start + timedelta(days=length)

    brute = sum(is_workday(start + timedelta(days=i)) for i in range(1, length + 1))

    assert workdays_between(start, end) == brute
    assert workdays_between(end, start) == -brute


@given(days, st.integers(min_value=0, max_value=60))
def test_weekends_and_holidays_are_never_counted(start, length):
    """A day off adds nothing to a span; an ordinary weekend (no holiday within ten days, so no
    调休) is always a day off; a listed holiday is always a day off."""
    end = start + timedelta(days=length)
    for day in (start + timedelta(days=i) for i in range(1, length + 1)):
        before = workdays_between(start, day - timedelta(days=1))
        assert workdays_between(start, day) == before + is_workday(day)
        near = [day + timedelta(days=k) for k in range(-10, 11)]
        if day.weekday() >= 5 and all(is_workday(d) for d in near if d.weekday() < 5):
            assert not is_workday(day)
        if day in HOLIDAYS:
            assert not is_workday(day)
    assert workdays_between(start, end) <= length


@pytest.mark.parametrize("day", HOLIDAYS)
def test_a_statutory_holiday_is_not_a_working_day(day):
    assert not is_workday(day)
    assert workdays_between(day - timedelta(days=1), day) == 0


@pytest.mark.parametrize("day", ADJUSTED_WORKDAYS)
def test_an_adjusted_weekend_day_is_counted(day):
    assert day.weekday() >= 5
    assert is_workday(day)
    assert workdays_between(day - timedelta(days=1), day) == 1


def test_october_2026_has_18_working_days():
    """22 weekdays, less 1, 2, 5, 6, 7 October (国庆), plus Saturday 10 October (调休)."""
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 31)) == 18


def test_two_working_days_over_the_spring_festival():
    """A self-declaration received on Friday 13 Feb 2026 is due by Saturday 14 Feb (调休) and
    Tuesday 24 Feb (the first working day after 春节)."""
    assert add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_workdays(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_a_year_not_yet_published_counts_monday_to_friday():
    assert covered(2026) and not covered(2031)
    assert workdays_between(date(2031, 1, 5), date(2031, 1, 12)) == 5  # Sunday to Sunday


@given(days, counts)
def test_earliest_start_is_the_boundary_of_overdue(end, n):
    start = earliest_start(end, n)

    assert workdays_between(start, end) <= n
    assert workdays_between(start - timedelta(days=1), end) > n


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        add_workdays(date(2026, 1, 5), -1)
    with pytest.raises(ValueError):
        earliest_start(date(2026, 1, 5), -1)
