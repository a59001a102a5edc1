"""Dates as the users live them: the calendar day in Asia/Shanghai (times stay UTC in the DB).

``now`` is the one clock of the server (``server.db.utcnow`` and every column default read
it). ``shifted`` moves it for the code run inside it — only the demo does, to run its story's
steps through the real services on the days they happened (``server.demo``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
_shift: ContextVar[timedelta] = ContextVar("clock_shift", default=timedelta(0))


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC) + _shift.get()


@contextmanager
def shifted(delta: timedelta) -> Iterator[None]:
    """Run the block as if the clock were ``delta`` ahead (behind, if negative)."""
    token = _shift.set(delta)
    try:
        yield
    finally:
        _shift.reset(token)


def today() -> date:
    return now().astimezone(CHINA).date()


def local_day(moment: datetime) -> date:
    """The users' calendar day of an aware moment."""
    return moment.astimezone(CHINA).date()


def day_start(day: date) -> datetime:
    """00:00 of ``day`` in Asia/Shanghai, as an aware datetime (compared in UTC)."""
    return datetime.combine(day, time(), tzinfo=CHINA)
