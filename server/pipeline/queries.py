"""Read services of the cases of the two procedures: what the REST API lists and shows, and
what the console and the exports call with the same area scope.

A case is shown as a ``CaseView``: its columns, the first day its running public notice may
end, and its ``Timing`` (ages in working days, deadlines, overdue flags) — computed here for a
whole page at once (``case_views``: the deadlines read with one query), never by a schema field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.auth import Principal, within
from server.domain.deadlines import Timing
from server.errors import AppError
from server.listing import SortKey, sorted_by, where_equal, where_in_area
from server.pipeline import deadlines
from server.pipeline.models import Case

CASE_SORT = {"id": Case.id, "opened_at": Case.opened_at,
             "step_entered_at": Case.step_entered_at, "area_code": Case.area_code}
DEFAULT_SORT = (SortKey("id"),)


@dataclass(frozen=True)
class CaseView:
    """A case as it is shown, on a given day."""

    id: int
    procedure: str
    step: str
    status: str
    origin: str | None
    area_code: str
    household_id: str | None
    declaration_id: int | None
    notice_started: date | None
    notice_can_end_on: date | None  # the first day the running notice may be closed
    opened_at: datetime
    step_entered_at: datetime
    closed_at: datetime | None
    decided_on: date | None
    timing: Timing


def cases_query(session: Session, user: Principal, filters: Mapping, today: date) -> Select:
    """The cases (a Select of ``Case``) of the user's area, for ``case_views``; ``filters``:
    ``procedure``, ``status``, ``step``, ``household_id``, ``origin``, ``area_code``,
    ``overdue`` (on ``today``, by the configured deadlines), ``sort`` (keys of ``CASE_SORT``;
    by id by default)."""
    query = sorted_by(select(Case).where(within(user, Case.area_code)),
                      filters.get("sort", DEFAULT_SORT), CASE_SORT, Case.id)
    query = where_equal(query, filters, Case, "procedure", "status", "step", "household_id",
                        "origin")
    query = where_in_area(query, filters, Case.area_code)
    if "overdue" in filters:
        late = deadlines.overdue_condition(session, today)
        query = query.where(late if filters["overdue"] else ~late)
    return query


def readable_case(session: Session, user: Principal, case_id: int) -> Case:
    """The case if it lies in the user's area (else NOT_FOUND); not locked (to act on a case,
    ``services.lock_case``)."""
    case = session.scalar(select(Case).where(Case.id == case_id, within(user, Case.area_code)))
    if case is None:
        raise AppError("NOT_FOUND")
    return case


def case_views(session: Session, cases: Sequence[Case], today: date) -> list[CaseView]:
    """The cases as shown on ``today``, timing and notice computed for them all at once."""
    timings = deadlines.case_timings(session, cases, today)
    notice_ends = deadlines.notice_ends(session, cases)
    return [CaseView(
        id=case.id, procedure=case.procedure, step=case.step, status=case.status,
        origin=case.origin, area_code=case.area_code, household_id=case.household_id,
        declaration_id=case.declaration_id, notice_started=case.notice_started,
        notice_can_end_on=notice_end, opened_at=case.opened_at,
        step_entered_at=case.step_entered_at, closed_at=case.closed_at,
        decided_on=case.decided_on, timing=timing)
        for case, timing, notice_end in zip(cases, timings, notice_ends, strict=True)]


def case_view(session: Session, case: Case, today: date) -> CaseView:
    return case_views(session, [case], today)[0]
