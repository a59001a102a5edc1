"""Dynamic management (SPEC §6): quarterly assistance-effect evaluations and half-yearly sweeps.

- 帮扶成效评估: "每季度至少集中开展一次帮扶效果评估" — every monitored household needs at least
  one evaluation dated within each calendar quarter (Q1 = January–March …).
- 集中排查: "各县市区每年开展集中排查不少于 2 次（上下半年各 1 次）…建立排查台账" — one sweep
  per half-year (H1 = January–June, H2 = July–December), covering every household of the area
  ("全覆盖排查"), each check written in the sweep ledger (排查台账).

Choices where the source is silent, documented here:
- a household's obligation for a period is *done* when a record is dated inside the period,
  *due* while the period runs without one, and *overdue* from the day after the period ends
  without one (a record made later, dated after the period, does not make up for it);
- a record cannot be dated in the future; a sweep's ledger rows are dated inside its half-year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from server.domain.catalogue import CatalogueError


class PeriodInvalid(CatalogueError):
    """A period label that is neither a quarter nor a half-year (PERIOD_INVALID)."""


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter (``2026Q3``) or half-year (``2026H2``)."""

    year: int
    months: int  # 3: a quarter, 6: a half-year
    number: int  # 1-based within the year

    @property
    def start(self) -> date:
        return date(self.year, (self.number - 1) * self.months + 1, 1)

    @property
    def end(self) -> date:
        last_month = self.number * self.months
        if last_month == 12:
            return date(self.year, 12, 31)
        return date(self.year, last_month + 1, 1) - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year}{'Q' if self.months == 3 else 'H'}{self.number}"

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


def quarter_of(day: date) -> Period:
    return Period(day.year, 3, (day.month - 1) // 3 + 1)


def half_year_of(day: date) -> Period:
    return Period(day.year, 6, 1 if day.month <= 6 else 2)


_LABEL = re.compile(r"^([0-9]{4})(Q[1-4]|H[12])$")


def parse_period(label: str) -> Period:
    """``2026Q3`` → the third quarter of 2026; ``2026H1`` → the first half-year."""
    match = _LABEL.match(label or "")
    if match is None or not 2000 <= int(match.group(1)) <= 2099:
        raise PeriodInvalid("PERIOD_INVALID", period=label)
    kind, number = match.group(2)[0], int(match.group(2)[1])
    return Period(int(match.group(1)), 3 if kind == "Q" else 6, number)


QUARTER = re.compile(r"^[0-9]{4}Q[1-4]$")
HALF_YEAR = re.compile(r"^[0-9]{4}H[12]$")


class DueStatus(StrEnum):
    DONE = "done"  # 已完成
    DUE = "due"  # 待完成（期间未结束）
    OVERDUE = "overdue"  # 逾期（期间已结束而无记录）


DUE_NAMES = {DueStatus.DONE: "已完成", DueStatus.DUE: "待完成", DueStatus.OVERDUE: "已逾期"}


def due_status(done: bool, period: Period, today: date) -> DueStatus:
    if done:
        return DueStatus.DONE
    return DueStatus.OVERDUE if today > period.end else DueStatus.DUE


class RecordDateError(CatalogueError):
    """A record's date the rules refuse: DATE_IN_FUTURE or DATE_OUTSIDE_PERIOD."""


def check_record_date(day: date, today: date, period: Period | None = None) -> None:
    """A record's date: not in the future, and inside ``period`` when one is given."""
    if day > today:
        raise RecordDateError("DATE_IN_FUTURE", date=day.isoformat())
    if period is not None and day not in period:
        raise RecordDateError("DATE_OUTSIDE_PERIOD", date=day.isoformat(), period=period.label,
                              start=period.start.isoformat(), end=period.end.isoformat())
