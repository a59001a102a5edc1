"""Working days (工作日) in mainland China: weekdays, less statutory holidays, plus the weekend
days the State Council's yearly notice turns into working days (调休上班).

Published years: the dates come from the ``chinesecalendar`` package (PyPI, MIT), which
transcribes the State Council's yearly notice on the holiday arrangements
(国务院办公厅关于××年部分节假日安排的通知); release 1.11.0 covers 2004–2026 (2026: 国办发明电
〔2025〕7号). ``covered(year)`` says which years are exact. Update the package once a year.

Later years (the notice comes out each November for the following year): the statutory
holidays are counted from their rule, the 全国年节及纪念日放假办法 as revised in 2024 (国务院令
第795号, in force since 1 January 2025), art. 2:
- 元旦 1 day (1 January); 春节 4 days (农历除夕, 正月初一–初三); 清明节 1 day (the day of
  the 清明 solar term); 劳动节 2 days (1–2 May); 端午节 1 day (农历五月初五); 中秋节 1 day
  (农历八月十五); 国庆节 3 days (1–3 October);
- art. 6: a holiday of all citizens that falls on a Saturday or Sunday is made up on a working
  day (补假). Choice: each such day (and a day two festivals share, e.g. 中秋 on 3 October) is
  made up on the first Monday–Friday after the festival that is not already a holiday.
The lunar dates and the solar term come from ``lunar-python`` (PyPI, MIT; 寿星天文历 algorithm,
Beijing time). The weekend days the yearly notice will turn into working days (调休) cannot be
known in advance: in those years every Saturday and Sunday is a rest day, and the counts are
estimates (``estimated(year)``; ``ESTIMATE_NOTE`` says so in Chinese). Before 2025 and after
``RULE_LAST_YEAR`` an unpublished year counts Monday–Friday.

Counting convention (used for the age of a case in its step, SPEC §6 "dynamic management"):
``workdays_between(start, end)`` counts the working days *after* ``start`` up to and including
``end`` — on the day a step is entered its age is 0, on the next working day 1.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from functools import lru_cache

from chinese_calendar import constants
from lunar_python import Lunar, Solar

_ONE_DAY = timedelta(days=1)

COVERED_YEARS = frozenset(day.year for day in constants.holidays)
LAST_COVERED_YEAR = max(COVERED_YEARS)
RULE_FIRST_YEAR = 2025  # the 2024 revision of 全国年节及纪念日放假办法 applies from 2025
RULE_LAST_YEAR = 2100  # lunar-python is exact well beyond; nobody counts deadlines so far
# Weekdays that are holidays (放假), and weekend days that are working days (调休上班).
_OFF_WEEKDAYS: tuple[date, ...] = tuple(sorted(d for d in constants.holidays if d.weekday() < 5))
_ON_WEEKENDS: tuple[date, ...] = tuple(sorted(d for d in constants.workdays if d.weekday() >= 5))
_OFF_SET = frozenset(_OFF_WEEKDAYS)
_ON_SET = frozenset(_ON_WEEKENDS)

ESTIMATE_NOTE = ("{years}年的节假日安排（调休上班日）国务院尚未公布：工作日按"
                 "《全国年节及纪念日放假办法》规定的法定节假日推算（含周末补假），"
                 "周六、周日均按休息日计；公布后以公布的安排为准")


def covered(year: int) -> bool:
    """Whether the holiday arrangement of ``year`` is published (else it is estimated)."""
    return year in COVERED_YEARS


def estimated(year: int) -> bool:
    """Whether working days in ``year`` are an estimate (no published arrangement yet)."""
    return not covered(year)


def estimated_years(start: date, end: date) -> list[int]:
    """The years between ``start`` and ``end`` (either order) whose working days are estimated."""
    low, high = sorted((start, end))
    return [year for year in range(low.year, high.year + 1) if estimated(year)]


def estimate_note(years: list[int]) -> str | None:
    """The Chinese note shown beside a count that relies on ``years`` estimated, or None."""
    return ESTIMATE_NOTE.format(years="、".join(map(str, years))) if years else None


# --- the statutory rule (years after the package's) --------------------------------------------


def _solar(lunar: Lunar) -> date:
    solar = lunar.getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def festivals(year: int) -> dict[str, tuple[date, ...]]:
    """The statutory holidays of ``year`` by festival, per art. 2 of the 2025 放假办法."""
    new_year = _solar(Lunar.fromYmd(year, 1, 1))  # 正月初一
    qingming = Solar.fromYmd(year, 4, 1).getLunar().getJieQiTable()["清明"]
    return {
        "元旦": (date(year, 1, 1),),
        "春节": tuple(new_year + timedelta(days=k) for k in range(-1, 3)),  # 除夕 – 初三
        "清明节": (date(qingming.getYear(), qingming.getMonth(), qingming.getDay()),),
        "劳动节": (date(year, 5, 1), date(year, 5, 2)),
        "端午节": (_solar(Lunar.fromYmd(year, 5, 5)),),
        "中秋节": (_solar(Lunar.fromYmd(year, 8, 15)),),
        "国庆节": (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)),
    }


@lru_cache(maxsize=256)
def rule_holidays(year: int) -> dict[date, str]:
    """Every day off of ``year`` by the rule: the festivals' days and the 补假 days (art. 6).

    Festivals are taken in date order; a festival day on a Saturday or Sunday, or already
    taken by an earlier festival, is owed, and each owed day is the first Monday–Friday after
    the festival's last day that is neither a festival day nor an earlier make-up day.
    """
    ordered = sorted(festivals(year).items(), key=lambda item: item[1][0])
    off: dict[date, str] = {}
    owed: dict[str, int] = {}
    for name, days in ordered:
        owed[name] = sum(day.weekday() >= 5 or day in off for day in days)
        for day in days:
            off.setdefault(day, name)
    for name, days in ordered:
        day, left = max(days), owed[name]
        while left:
            day += _ONE_DAY
            if day.weekday() < 5 and day not in off:
                off[day] = f"{name}（补假）"
                left -= 1
    return off


def _rule_applies(year: int) -> bool:
    return not covered(year) and RULE_FIRST_YEAR <= year <= RULE_LAST_YEAR


@lru_cache(maxsize=256)
def _off_weekdays_of(year: int) -> tuple[date, ...]:
    """The sorted Monday–Friday holidays of an estimated year (empty outside the rule)."""
    if not _rule_applies(year):
        return ()
    return tuple(sorted(day for day in rule_holidays(year) if day.weekday() < 5))


# --- counting -----------------------------------------------------------------------------------


def is_workday(day: date) -> bool:
    if day.weekday() >= 5:
        return day in _ON_SET
    if covered(day.year):
        return day not in _OFF_SET
    return day not in _off_weekdays_of(day.year)


def _weekdays_through(day: date) -> int:
    """Monday–Friday days from a fixed Monday (0001-01-01) up to and including ``day``."""
    weeks, rest = divmod(day.toordinal(), 7)  # 0001-01-01 is a Monday, ordinal 1
    return weeks * 5 + min(rest, 5)


def _in(dates: tuple[date, ...], start: date, end: date) -> int:
    """How many of the sorted ``dates`` lie in (start, end]."""
    return bisect_right(dates, end) - bisect_right(dates, start)


def _off_between(start: date, end: date) -> int:
    """Monday–Friday holidays in (start, end], published and estimated."""
    count = _in(_OFF_WEEKDAYS, start, end)
    for year in range(start.year, end.year + 1):
        if _rule_applies(year):
            count += _in(_off_weekdays_of(year), start, end)
    return count


def workdays_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative (the same count) when ``end`` is before ``start``."""
    if end < start:
        return -workdays_between(end, start)
    return (_weekdays_through(end) - _weekdays_through(start)
            - _off_between(start, end) + _in(_ON_WEEKENDS, start, end))


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
