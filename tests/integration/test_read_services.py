"""The read services the REST API, the console and the exports share (issue 12.6): they keep to
the reader's area, and a page of cases is shown with its timing computed in the service, with
one query for the page rather than one per case."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from server.domain.deadlines import StepDeadline
from server.domain.pipeline import Procedure, Step
from server.errors import AppError
from server.figures.services import set_step_deadline
from server.households.models import Household
from server.pipeline.models import Case
from server.pipeline.queries import case_views, cases_query, readable_case
from tests.integration.conftest import user
from tests.support.seed import OTHER_TOWNSHIP, VILLAGE

TODAY = date(2026, 3, 20)  # a Friday


def _case(session, area: str, step: Step, entered: date, notice: date | None = None) -> Case:
    household = Household(id=str(uuid.uuid4()), area_code=area)
    session.add(household)
    session.flush()
    at = datetime(entered.year, entered.month, entered.day, 2, tzinfo=UTC)
    case = Case(procedure=Procedure.IDENTIFICATION.value, step=step.value, area_code=area,
                household_id=household.id, opened_at=at, step_entered_at=at,
                notice_started=notice)
    session.add(case)
    session.flush()
    return case


def _statements(session, work):
    """What ``work()`` returns, and how many SQL statements it ran."""
    seen = []
    engine = session.get_bind()

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return result, len(seen)


def test_a_page_of_cases_is_timed_with_one_query(session):
    """SPEC §6 (deadlines are per-province data): each case of a page gets its ages and overdue
    flags from the read service, the deadlines read once for the whole page, the notice days
    once per province and year — never a query per case, and none while the schema dumps."""
    set_step_deadline(session, StepDeadline("43", Procedure.IDENTIFICATION, Step.VERIFICATION,
                                            3, "某县规定"))
    late = [_case(session, VILLAGE, Step.VERIFICATION, date(2026, 3, 2)) for _ in range(4)]
    fresh = _case(session, VILLAGE, Step.VERIFICATION, date(2026, 3, 19))
    cases = [*late, fresh]

    views, statements = _statements(session, lambda: case_views(session, cases, TODAY))

    assert statements == 1
    assert [v.timing.step_overdue for v in views] == [True] * 4 + [False]
    assert all(v.timing.step_deadline == date(2026, 3, 5) for v in views[:4])

    noticed = [_case(session, VILLAGE, Step.PUBLIC_NOTICE, date(2026, 3, 16),
                     notice=date(2026, 3, 16)) for _ in range(3)]
    views, statements = _statements(session, lambda: case_views(session, noticed, TODAY))

    assert statements == 2  # the deadlines, and the province's notice days of 2026
    assert {v.notice_can_end_on for v in views} == {date(2026, 3, 24)}


def test_the_case_read_services_keep_to_the_readers_area(session):
    """SPEC §1: a user sees only what lies inside their area — the list leaves the other
    township's case out, and reading it is not found, as over the REST API."""
    here = _case(session, VILLAGE, Step.APPLICATION, TODAY)
    there = _case(session, f"{OTHER_TOWNSHIP}201", Step.APPLICATION, TODAY)
    village = user(session, "village")

    listed = session.scalars(cases_query(session, village, {}, TODAY)).all()
    overdue = session.scalars(cases_query(session, village, {"overdue": True}, TODAY)).all()

    assert here in listed and there not in listed and overdue == []
    assert readable_case(session, village, here.id) is here
    with pytest.raises(AppError) as caught:
        readable_case(session, village, there.id)
    assert caught.value.code == "NOT_FOUND"
