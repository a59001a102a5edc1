"""server.domain.workdays: China's working days, with statutory holidays and 调休 (issue 6);
after the published years, the holidays of the 2025 放假办法 (issue 11)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.workdays import (
    LAST_COVERED_YEAR,
    RULE_LAST_YEAR,
    add_workdays,
    covered,
    earliest_start,
    estimate_note,
    estimated,
    estimated_years,
    festivals,
    is_workday,
    rule_holidays,
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


def test_a_year_not_yet_published_counts_its_statutory_holidays_and_weekends_only():
    """SPEC §6 (deadlines in working days): after the package's last year the statutory
    holidays are counted from their rule; no weekend is a working day (调休 unknown).
    (Replaces the old test that counted Monday–Friday in such a year.)"""
    assert covered(2026) and not covered(2031) and estimated(2031)
    assert workdays_between(date(2031, 1, 5), date(2031, 1, 12)) == 5  # Sunday to Sunday
    # 2031: 元旦 Wednesday 1 January is a holiday
    assert workdays_between(date(2030, 12, 29), date(2031, 1, 5)) == 4


def test_new_years_day_2027_is_not_a_working_day():
    """SPEC §6: a deadline fell on 1 January 2027 (the package's data ends with 2026)."""
    assert not is_workday(date(2027, 1, 1))
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert add_workdays(date(2026, 12, 4), 20) == date(2027, 1, 4)


# Dates of the lunar festivals and the 清明 solar term, from published almanacs (万年历), not
# from the library under test.
KNOWN_FESTIVALS = {
    2027: {"春节": date(2027, 2, 6), "清明节": date(2027, 4, 5), "端午节": date(2027, 6, 9),
           "中秋节": date(2027, 9, 15)},
    2028: {"春节": date(2028, 1, 26), "清明节": date(2028, 4, 4), "端午节": date(2028, 5, 28),
           "中秋节": date(2028, 10, 3)},
    2030: {"春节": date(2030, 2, 3), "清明节": date(2030, 4, 5), "端午节": date(2030, 6, 5),
           "中秋节": date(2030, 9, 12)},
}


@pytest.mark.parametrize("year", sorted(KNOWN_FESTIVALS))
def test_the_lunar_festivals_fall_on_their_known_dates(year):
    """The 2025 放假办法: 春节 = 除夕 and 正月初一–初三, 端午 = 五月初五, 中秋 = 八月十五,
    清明 = the day of the solar term."""
    found = festivals(year)
    known = KNOWN_FESTIVALS[year]

    assert found["春节"] == tuple(known["春节"] + timedelta(days=k) for k in range(-1, 3))
    for name in ("清明节", "端午节", "中秋节"):
        assert found[name] == (known[name],), name
    for day in (*found["春节"], known["清明节"], known["端午节"], known["中秋节"]):
        assert not is_workday(day)


def test_the_2027_holidays_with_their_make_up_days():
    """Art. 6 of the 放假办法: a holiday on a weekend is made up on the next free weekday
    (补假). 2027: 春节 5–8 Feb (Sat 6 and Sun 7 made up on 9–10 Feb), 劳动节 1–2 May (a
    weekend: 3–4 May), 国庆 1–3 Oct (2–3 Oct a weekend: 4–5 Oct)."""
    off = sorted(rule_holidays(2027))

    assert off == [
        date(2027, 1, 1),
        *(date(2027, 2, d) for d in range(5, 11)),
        date(2027, 4, 5),
        *(date(2027, 5, d) for d in range(1, 5)),
        date(2027, 6, 9), date(2027, 9, 15),
        *(date(2027, 10, d) for d in range(1, 6)),
    ]
    assert add_workdays(date(2027, 2, 4), 1) == date(2027, 2, 11)


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_rule_agrees_with_the_published_years(year):
    """Cross-check: in the years the State Council published, every day the rule gives off
    (festivals and 补假) is a published holiday."""
    for day, name in rule_holidays(year).items():
        assert not is_workday(day), (day, name)


future_years = st.integers(min_value=LAST_COVERED_YEAR + 1, max_value=RULE_LAST_YEAR)


@given(future_years)
def test_an_estimated_year_has_thirteen_weekday_holidays_and_no_working_weekend(year):
    """Rule years: 13 statutory days (1+4+1+2+1+1+3), each on a weekday or made up on one;
    Saturdays and Sundays are all rest days (the year's 调休 is not known)."""
    start, end = date(year - 1, 12, 31), date(year, 12, 31)
    weekdays = sum((start + timedelta(days=i)).weekday() < 5
                   for i in range(1, (end - start).days + 1))

    assert workdays_between(start, end) == weekdays - 13
    assert all(day.weekday() < 5 or not is_workday(day) for day in rule_holidays(year))
    saturday = date(year, 7, 1) + timedelta(days=(5 - date(year, 7, 1).weekday()) % 7)
    assert not is_workday(saturday) and not is_workday(saturday + timedelta(days=1))


@given(future_years)
def test_the_festivals_fall_in_their_seasons(year):
    """春节 between 21 January and 20 February, 清明 4–6 April, 端午 27 May – 26 June, 中秋
    7 September – 8 October; 元旦, 劳动节 and 国庆 on their fixed days."""
    found = festivals(year)

    assert date(year, 1, 21) <= found["春节"][1] <= date(year, 2, 20)
    assert date(year, 4, 4) <= found["清明节"][0] <= date(year, 4, 6)
    assert date(year, 5, 27) <= found["端午节"][0] <= date(year, 6, 26)
    assert date(year, 9, 7) <= found["中秋节"][0] <= date(year, 10, 8)
    assert found["元旦"] == (date(year, 1, 1),)
    assert found["劳动节"] == (date(year, 5, 1), date(year, 5, 2))
    assert found["国庆节"] == tuple(date(year, 10, d) for d in (1, 2, 3))
    for days in found.values():
        assert all(not is_workday(day) for day in days)


@given(future_years)
def test_make_up_days_follow_their_festival_on_a_weekday(year):
    """补假 days are Monday–Friday, after the festival they make up for, never a festival day."""
    fixed = {day for days in festivals(year).values() for day in days}
    for day, name in rule_holidays(year).items():
        if name.endswith("（补假）"):
            assert day.weekday() < 5 and day not in fixed
            festival = festivals(year)[name.removesuffix("（补假）")]
            assert day > max(festival)


def test_estimated_years_and_their_note():
    assert estimated_years(date(2026, 12, 1), date(2027, 1, 4)) == [2027]
    assert estimated_years(date(2026, 1, 1), date(2026, 12, 31)) == []
    assert estimate_note([]) is None
    assert "2027" in estimate_note([2027]) and "调休" in estimate_note([2027])


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
