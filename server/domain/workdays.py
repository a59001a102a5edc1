"""Working days (工作日) in mainland China: weekdays, less statutory holidays, plus the weekend
days the State Council's yearly notice turns into working days (调休上班).

The dates come from the ``chinesecalendar`` package (PyPI, MIT), which transcribes the State
Council's yearly notice on the holiday arrangements (国务院办公厅关于××年部分节假日安排的通知);
release 1.11.0 covers 2004–2026 (2026: 国办发明电〔2025〕7号). A year the package does not cover
yet (the notice comes out each November for the following year) counts Monday–Friday as
working days: ``covered(year)`` says which years are exact. Update the package once a year.

Counting convention (used for the age of a case in its step, SPEC §6 "dynamic management"):
``workdays_between(start, end)`` counts the working days *after* ``start`` up to and including
``end`` — on the day a step is entered its age is 0, on the next working day 1.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta

from chinese_calendar import constants

_ONE_DAY = timedelta(days=1)

COVERED_YEARS = frozenset(day.year for day in constants.holidays)
# Weekdays that are holidays (放假), and weekend days that are working days (调休上班).
_OFF_WEEKDAYS: tuple[date, ...] = tuple(sorted(d for d in constants.holidays if d.weekday() < 5))
_ON_WEEKENDS: tuple[date, ...] = tuple(sorted(d for d in constants.workdays if d.weekday() >= 5))
_OFF_SET = frozenset(_OFF_WEEKDAYS)
_ON_SET = frozenset(_ON_WEEKENDS)


def covered(year: int) -> bool:
    """Whether the holiday arrangement of ``year`` is known (else Monday–Friday is assumed)."""
    return year in COVERED_YEARS


def is_workday(day: date) -> bool:
    if day.weekday() < 5:
        return day not in _OFF_SET
    return day in _ON_SET


def _weekdays_through(day: date) -> int:
    """Monday–Friday days from a fixed Monday (0001-01-01) up to and including ``day``."""
    weeks, rest = divmod(day.toordinal(), 7)  # 0001-01-01 is a Monday, ordinal 1
    return weeks * 5 + min(rest, 5)


def _in(dates: tuple[date, ...], start: date, end: date) -> int:
    """How many of the sorted ``dates`` lie in (start, end]."""
    return bisect_right(dates, end) - bisect_right(dates, start)


def workdays_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative (the same count) when ``end`` is before ``start``."""
    if end < start:
        return -workdays_between(end, start)
    return (_weekdays_through(end) - _weekdays_through(start)
            - _in(_OFF_WEEKDAYS, start, end) + _in(_ON_WEEKENDS, start, end))


def add_workdays(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself for n = 0)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    day, counted = start, 0
    while counted < n:
        day += _ONE_DAY
        if is_workday(day):
            counted += 1
    return day


def earliest_start(end: date, n: int) -> date:
    """The earliest ``start`` with ``workdays_between(start, end) <= n`` (n ≥ 0).

    Every start before it is more than ``n`` working days before ``end``: a step entered on a
    day before ``earliest_start(today, limit)`` is overdue.
    """
    if n < 0:
        raise ValueError("n must be ≥ 0")
    day, counted = end, 0
    while not (is_workday(day) and counted == n):
        if is_workday(day):
            counted += 1
        day -= _ONE_DAY
    return day
