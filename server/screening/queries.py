"""Read services of department warning lists and the home-check tasks they hand out: what the
REST API lists and shows, and what the console and the exports call. ID numbers are returned as
stored (masking by role is the caller's).

Lists are the county's: a list belongs to the uploader's area, so only users whose area holds
it (county, admin) see lists, their rows and the original file. Tasks (matched rows) belong to
the household's area.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from server.auth import Principal, within
from server.domain.catalogue import Message
from server.domain.codes import WARNING_CHECK_OUTCOME
from server.errors import AppError
from server.households.models import Person
from server.listing import where_equal, where_in_area
from server.screening.models import WarningList, WarningRow
from server.screening.services import STATUSES, ImportReport

PROBLEM_STATUSES = ("unmatched", "invalid", "already_checked")


@dataclass(frozen=True)
class WarningListView:
    id: int
    filename: str
    uploaded_by: int
    uploaded_at: datetime
    area_code: str
    total: int
    matched: int
    joined: int
    already_checked: int
    unmatched: int
    invalid: int
    open_tasks: int


@dataclass(frozen=True)
class WarningRowView:
    id: int
    list_id: int
    row_number: int
    department: str
    id_number: str
    person_name: str | None
    reason: str
    reported_on: date | None
    status: str
    error: str | None
    household_id: str | None
    area_code: str | None
    open: bool  # a task whose result is not fed back yet
    check_result: str | None
    outcome: str | None
    outcome_label: str | None
    checked_by: int | None
    checked_at: datetime | None
    case_id: int | None
    task_id: int | None
    joined_rows: int  # rows of any list counted on this task


@dataclass(frozen=True)
class WarningListDetail(WarningListView):
    rows: list[WarningRowView]


@dataclass(frozen=True)
class RowProblem:
    """A row of a new list that opened no task: unmatched, invalid or already checked."""

    row_number: int
    department: str
    id_number: str
    reason: str
    problem: str
    problem_code: str  # the catalogue's code of ``problem``
    task_id: int | None


@dataclass(frozen=True)
class ImportReportView:
    list: WarningListView
    matched: int
    unmatched: int
    invalid: int
    joined: int
    already_checked: int
    unmatched_rows: list[RowProblem]
    invalid_rows: list[RowProblem]
    already_checked_rows: list[RowProblem]


# --- lists ----------------------------------------------------------------------------------


def lists_query(user: Principal) -> Select:
    """The lists (a Select of ``WarningList``) of the user's area, newest first, for
    ``list_views``."""
    return (select(WarningList).where(within(user, WarningList.area_code))
            .order_by(WarningList.id.desc()))


def list_views(session: Session, lists: Sequence[WarningList]) -> list[WarningListView]:
    """The lists with their rows counted by status (one query for them all)."""
    counts = _counts(session, [item.id for item in lists])
    return [_list_view(item, counts[item.id]) for item in lists]


def readable_list(session: Session, user: Principal, list_id: int) -> WarningList:
    """The list if it belongs to the user's area (else NOT_FOUND)."""
    warning_list = session.scalar(select(WarningList).where(
        WarningList.id == list_id, within(user, WarningList.area_code)))
    if warning_list is None:
        raise AppError("NOT_FOUND")
    return warning_list


def list_detail(session: Session, user: Principal, list_id: int,
                filters: Mapping) -> WarningListDetail:
    """The list (if it belongs to the user's area, else NOT_FOUND) with its rows in file
    order; ``filters``: ``status``."""
    warning_list = readable_list(session, user, list_id)
    query = _rows().where(WarningRow.list_id == list_id).order_by(
        WarningRow.row_number, WarningRow.id)
    query = where_equal(query, filters, WarningRow, "status")
    rows = task_views(session, session.execute(query).all())
    return WarningListDetail(**vars(list_views(session, [warning_list])[0]), rows=rows)


def import_report_view(session: Session, report: ImportReport) -> ImportReportView:
    """What an upload made of a list: its counts and the rows that opened no task."""
    warning_list = session.get(WarningList, report.list_id)
    problems = session.scalars(select(WarningRow).where(
        WarningRow.list_id == report.list_id, WarningRow.status.in_(PROBLEM_STATUSES))
        .order_by(WarningRow.row_number)).all()
    found: dict[str, list[RowProblem]] = {status: [] for status in PROBLEM_STATUSES}
    messages = {"invalid": report.invalid, "already_checked": report.already_checked}
    for row in problems:
        problem = (messages[row.status][row.row_number] if row.status in messages
                   else Message("WARNING_ROW_UNMATCHED"))
        found[row.status].append(RowProblem(
            row_number=row.row_number, department=row.department, id_number=row.id_number,
            reason=row.reason, problem=row.error or "", problem_code=problem.code,
            task_id=row.task_id))
    return ImportReportView(
        list=list_views(session, [warning_list])[0], matched=report.matched,
        unmatched=len(report.unmatched), invalid=len(report.invalid), joined=report.joined,
        already_checked=len(report.already_checked), unmatched_rows=found["unmatched"],
        invalid_rows=found["invalid"], already_checked_rows=found["already_checked"])


def _counts(session: Session, list_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {
        list_id: {"total": 0, "open_tasks": 0, **dict.fromkeys(STATUSES, 0)}
        for list_id in list_ids}
    if not list_ids:
        return counts
    unchecked = func.sum(case((WarningRow.check_result.is_(None), 1), else_=0))
    for list_id, status, number, open_number in session.execute(
            select(WarningRow.list_id, WarningRow.status, func.count(), unchecked)
            .where(WarningRow.list_id.in_(list_ids))
            .group_by(WarningRow.list_id, WarningRow.status)):
        counts[list_id][status] = number
        counts[list_id]["total"] += number
        if status == "matched":
            counts[list_id]["open_tasks"] = int(open_number or 0)
    return counts


def _list_view(warning_list: WarningList, counts: dict[str, int]) -> WarningListView:
    return WarningListView(id=warning_list.id, filename=warning_list.filename,
                           uploaded_by=warning_list.uploaded_by,
                           uploaded_at=warning_list.uploaded_at,
                           area_code=warning_list.area_code, **counts)


# --- rows and tasks ---------------------------------------------------------------------------


def _rows() -> Select:
    return (select(WarningRow, Person.name)
            .outerjoin(Person, Person.id_number == WarningRow.id_number))


def tasks_query(user: Principal, filters: Mapping) -> Select:
    """Rows (WarningRow, person name) of the matched rows — the home-check tasks, fed back or
    not — of the user's area, for ``task_views``; ``filters``: ``open``, ``list_id``,
    ``outcome``, ``area_code``."""
    query = _rows().where(WarningRow.status == "matched",
                          within(user, WarningRow.area_code)).order_by(WarningRow.id)
    if "open" in filters:
        unchecked = WarningRow.check_result.is_(None)
        query = query.where(unchecked if filters["open"] else ~unchecked)
    query = where_equal(query, filters, WarningRow, "list_id", "outcome")
    return where_in_area(query, filters, WarningRow.area_code)


def open_task_count(session: Session, user: Principal) -> int:
    """The home-check tasks of the user's area not fed back yet (工作台)."""
    return session.scalar(select(func.count()).select_from(
        tasks_query(user, {"open": True}).subquery())) or 0


def task_views(session: Session, rows) -> list[WarningRowView]:
    """(WarningRow, person name) rows with the repeats counted on each task (one query)."""
    joined = _joined_counts(session, [row for row, _ in rows])
    return [_row_view(row, name, joined) for row, name in rows]


def task_view(session: Session, row: WarningRow) -> WarningRowView:
    """One row (e.g. a task just fed back) as ``task_views`` shows it."""
    name = session.scalar(select(Person.name).where(Person.id_number == row.id_number))
    return task_views(session, [(row, name)])[0]


def _joined_counts(session: Session, rows: list[WarningRow]) -> dict[int, int]:
    """Task id → rows of any list counted on it (joined: repeats of an open task)."""
    ids = [row.id for row in rows if row.status == "matched"]
    if not ids:
        return {}
    return dict(session.execute(
        select(WarningRow.task_id, func.count()).where(WarningRow.task_id.in_(ids),
                                                        WarningRow.status == "joined")
        .group_by(WarningRow.task_id)).all())


def _row_view(row: WarningRow, person_name: str | None, joined: dict[int, int]
              ) -> WarningRowView:
    return WarningRowView(
        id=row.id, list_id=row.list_id, row_number=row.row_number, department=row.department,
        id_number=row.id_number, person_name=person_name, reason=row.reason,
        reported_on=row.reported_on, status=row.status, error=row.error,
        household_id=row.household_id, area_code=row.area_code,
        open=row.status == "matched" and row.check_result is None,
        check_result=row.check_result, outcome=row.outcome,
        outcome_label=WARNING_CHECK_OUTCOME.label(row.outcome) if row.outcome else None,
        checked_by=row.checked_by, checked_at=row.checked_at, case_id=row.case_id,
        task_id=row.task_id, joined_rows=joined.get(row.id, 0))
