"""Department warnings (部门筛查预警, SPEC §6): which rows are one home-check task, when a checked
task is checked again, and the short text a helper's phone shows.

"部门筛查、集中交办、入户核查、结果反馈": a department's list names people; the village checks the
household once for each department and reason. Rules (choices where the source is silent):

- **One open task per household, department and reason** (``task_key``): a row naming a
  household that already has an open task for that department and reason — in the same list
  (another member, the same row twice) or a later one — joins it and is counted there; it is
  no second task.
- **A checked task is not reopened by the same warning** (``covered_by_check``): the home check
  answers every warning of that department and reason dated up to the day of the check. A row
  dated on or before it — the same list uploaded again, an older row — is reported as already
  checked, with the task that was. A row dated *after* the check is new news (a new list from
  a later date): it opens a new task. A row without a date cannot be told apart from the one
  checked, so it counts as already checked (the department can date it to have it checked
  again).
- Department and reason are compared after collapsing white space; nothing else is folded.
- The phone's text (``task_text``) lists at most ``TEXT_TASKS`` tasks, each cut to a bounded
  length, and says how many more there are: a hostile or careless list cannot blow up the
  helper's entity list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

TEXT_TASKS = 3  # tasks spelled out on the phone; the rest are counted
TEXT_DEPARTMENT = 20  # characters of a department's name on the phone
TEXT_REASON = 40  # characters of a reason on the phone
_ELLIPSIS = "…"
# department（date）：reason, three times with "；" between, and "等共N项" after
TEXT_MAX = TEXT_TASKS * (TEXT_DEPARTMENT + TEXT_REASON + 2 + len("（0000-00-00）：")) + 2 + 16


def _normal(text: str) -> str:
    return " ".join(text.split())


def task_key(household_id: str, department: str, reason: str) -> str:
    """The identity of a home-check task: household, department and reason (SHA-256, hex)."""
    material = "\x1f".join((household_id, _normal(department), _normal(reason)))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def covered_by_check(reported_on: date | None, checked_on: date) -> bool:
    """Whether a warning dated ``reported_on`` was answered by a check made on ``checked_on``."""
    return reported_on is None or reported_on <= checked_on


def _cut(text: str, limit: int) -> str:
    text = _normal(text)
    return text if len(text) <= limit else text[:limit - 1] + _ELLIPSIS


def task_text(tasks: Sequence[tuple[str, date | None, str]]) -> str:
    """The open tasks of a household as its phone list shows them (at most ``TEXT_MAX``
    characters): ``department（date）：reason`` joined by ``；``, then how many in all."""
    shown = "；".join(
        f"{_cut(department, TEXT_DEPARTMENT)}（{reported_on or '日期不详'}）："
        f"{_cut(reason, TEXT_REASON)}"
        for department, reported_on, reason in tasks[:TEXT_TASKS])
    if len(tasks) > TEXT_TASKS:
        shown += f"；等共{len(tasks)}项"
    return shown
