"""The read services behind the console's case list and a village's public-notice list
(issue 13, pages 2 and 7): a page of cases with its households and places, the A3 type filter,
and the notices that ran in a period with their review and notice days (附件4), inside the
reader's area. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server import clock
from server.domain.pipeline import Action, Procedure, Step
from server.errors import AppError
from server.households.models import Household
from server.pipeline.models import Case, CaseEvent
from server.pipeline.queries import case_list, cases_query, notice_list
from server.pipeline.services import act, assign_contact
from tests.integration.conftest import user
from tests.integration.test_read_services import _statements
from tests.integration.test_registry import submit, submit_form
from tests.support.households import CHILD, HEAD, SPOUSE
from tests.support.seed import OTHER_TOWNSHIP, VILLAGE

NEIGHBOUR = "430421107200"  # 洪市镇泰山村委会: the same township, another village


def _case(session, area: str, step: Step, household: str | None = None, **columns) -> Case:
    if household is None:
        household = str(uuid.uuid4())
        session.add(Household(id=household, area_code=area, monitoring_type="02"))
    case = Case(procedure=Procedure.IDENTIFICATION.value, step=step.value, area_code=area,
                household_id=household, **columns)
    session.add(case)
    session.flush()
    return case


def test_a_page_of_cases_names_its_households_and_places_in_a_few_queries(session, helper,
                                                                          seeded):
    """SPEC §6/§7: the case list shows each case's household (head, type) and village; the
    household's A3 type filters it; the page costs the same few queries however long."""
    _state, submission = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD])
    surveyed = _case(session, f"{VILLAGE}001", Step.APPLICATION, submission.household_id)
    others = [_case(session, NEIGHBOUR, Step.VERIFICATION) for _ in range(5)]
    session.execute(update(Household).where(Household.id == submission.household_id)
                    .values(monitoring_type="01"))
    township = user(session, "township")
    today = clock.today()

    cases = session.scalars(cases_query(session, township, {}, today)).all()
    items, statements = _statements(session, lambda: case_list(session, cases, today))
    typed = session.scalars(cases_query(session, township, {"monitoring_type": "01"},
                                        today)).all()

    assert [item.case.id for item in items] == [surveyed.id, *(c.id for c in others)]
    first = items[0]
    assert first.household.head_name == HEAD["a5_name"]
    assert first.household.head_id_number == HEAD["a7_id_number"]  # unmasked: callers mask
    assert first.area_name == "洪罗庙社区 第一村民小组"
    assert items[1].area_name == "泰山村委会" and items[1].household.head_name is None
    assert statements <= 4  # deadlines, households, area names (+ notice days if any)
    assert typed == [surveyed]


def _to_notice(session) -> Case:
    """A case of the village at its review, approved by the village into its public notice."""
    case = _case(session, VILLAGE, Step.VILLAGE_REVIEW)
    act(session, case.id, Action.APPROVE, user(session, "village"), clock.today())
    return case


def _days_ago(session, case: Case, days: int) -> None:
    """Move the case's events ``days`` back (the server's clock is real)."""
    moved = datetime.now(UTC) - timedelta(days=days)
    session.execute(update(CaseEvent).where(CaseEvent.case_id == case.id).values(at=moved))


def test_the_notice_list_holds_the_notices_that_ran_in_the_period(session, helper, seeded):
    """SPEC §6/§7 (附件4, 评议时间/公示时间): a notice runs from the village review's approval
    until the case leaves the step; the list holds those that ran on a day of the period, in
    the village asked for, with the household's risks, measures and monitoring contact."""
    today = clock.today()
    _state, submission = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD])
    household = submission.household_id
    submit_form(session, helper, seeded, "measures", {
        "household": household, "measure_date": "2021-06-01", "green_channel": "02",
        "a39_industry": "01 03", "a39_effect": "发展养殖，年增收3000元"})
    village, county = user(session, "village"), user(session, "county")
    assign_contact(session, household, village, "刘强", "洪市镇人民政府", "副镇长")
    running = _case(session, VILLAGE, Step.VILLAGE_REVIEW, household)
    act(session, running.id, Action.APPROVE, village, today)
    returned = _to_notice(session)
    act(session, returned.id, Action.RETURN, village, today, "评议记录不全")
    old = _to_notice(session)
    act(session, old.id, Action.RETURN, village, today, "重新评议")
    _days_ago(session, old, 60)
    elsewhere = _case(session, NEIGHBOUR, Step.PUBLIC_NOTICE, notice_started=today)
    session.flush()

    listed = notice_list(session, village, VILLAGE, today - timedelta(days=30), today)
    past = notice_list(session, county, VILLAGE, today - timedelta(days=70),
                       today - timedelta(days=50))

    assert [a.name for a in listed.area] == ["衡阳市", "衡阳县", "洪市镇", "洪罗庙社区"]
    assert [e.case_id for e in listed.entries] == [running.id, returned.id]
    first, second = listed.entries
    assert (first.reviewed_on, first.started_on, first.ended_on) == (today, today, None)
    assert first.can_end_on == today + timedelta(days=8)
    assert first.household.head_name == HEAD["a5_name"]
    assert first.risks == ("1", "5", "6")  # A34 below 6500, A26 (the child), A27 因病
    assert [(m.code, m.chosen) for m in first.measures] == [("A39", ("种植业", "养殖业"))]
    assert first.contact.name == "刘强"
    assert (second.ended_on, second.ended_by) == (today, "return")
    assert [e.case_id for e in past.entries] == [old.id]
    assert elsewhere.id not in {e.case_id for e in past.entries + listed.entries}
    township = notice_list(session, county, "430421107", today, today)
    assert {e.case_id for e in township.entries} == {running.id, returned.id, elsewhere.id}


def test_the_notice_list_keeps_to_the_readers_area(session):
    """SPEC §1: another township's village is not found for a village user."""
    with pytest.raises(AppError) as caught:
        notice_list(session, user(session, "village"), f"{OTHER_TOWNSHIP}200",
                    clock.today(), clock.today())
    assert caught.value.code == "NOT_FOUND"
    assert session.scalar(select(Case.id)) is None
