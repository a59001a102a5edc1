"""Dates as the users live them: the calendar day in Asia/Shanghai (times stay UTC in the DB)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(CHINA).date()


def local_day(moment: datetime) -> date:
    """The users' calendar day of an aware moment."""
    return moment.astimezone(CHINA).date()


def day_start(day: date) -> datetime:
    """00:00 of ``day`` in Asia/Shanghai, as an aware datetime (compared in UTC)."""
    return datetime.combine(day, time(), tzinfo=CHINA)
