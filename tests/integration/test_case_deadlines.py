"""Step deadlines as per-province data and who counts as a monitoring object (issue 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.domain.deadlines import StepDeadline
from server.domain.pipeline import Procedure, Step
from server.figures.services import (
    BUNDLED_DEADLINES,
    clear_step_deadline,
    load_bundled_deadlines,
    set_step_deadline,
    step_deadlines,
)
from server.households.models import Household
from server.monitoring.services import monitored_households
from server.pipeline.models import Case
from tests.support.seed import VILLAGE

# Services within one session, no commit semantics under test: rolled back on a shared database.
pytestmark = pytest.mark.rolled_back


def test_the_shipped_data_sets_no_deadline(session):
    """SPEC §6: "step deadlines are configurable data, empty by default"."""
    assert load_bundled_deadlines(session) == 0
    assert step_deadlines(session) == []


def test_a_province_file_is_loaded_once_and_can_be_changed(session, tmp_path):
    data = tmp_path / "deadlines.csv"
    data.write_text(BUNDLED_DEADLINES.read_text(encoding="utf-8")
                    + "43,identification,application,2,某县规定\n"
                      "43,identification,,20,某县规定\n", encoding="utf-8")

    first, again = load_bundled_deadlines(session, data), load_bundled_deadlines(session, data)
    set_step_deadline(session, StepDeadline("43", Procedure.IDENTIFICATION, Step.APPLICATION,
                                            3, "修订"))
    cleared = clear_step_deadline(session, "43", Procedure.IDENTIFICATION, None)

    assert (first, again, cleared) == (2, 0, True)
    assert step_deadlines(session, "43") == [
        StepDeadline("43", Procedure.IDENTIFICATION, Step.APPLICATION, 3, "修订")]
    assert session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "step_deadline")).all() == [
        "deadline.set", "deadline.set", "deadline.set", "deadline.cleared"]


def test_a_household_is_monitored_between_identification_and_elimination(session):
    """监测对象: from the county's approval of its identification until 风险消除; identified
    again later, it is monitored again."""
    household = Household(id="7d9f0c52-9999-4c1e-9a51-000000000009", area_code=VILLAGE)
    session.add(household)
    session.flush()
    area = VILLAGE

    def closed(procedure: str, day: date, status: str = "done") -> None:
        session.add(Case(procedure=procedure, step="county_approval", status=status,
                         area_code=area, household_id=household.id,
                         closed_at=datetime(day.year, day.month, day.day, 4, tzinfo=UTC)))
        session.flush()

    def monitored(day: date) -> bool:
        sub = monitored_households(day)
        return session.scalar(select(sub.c.household_id)) == household.id

    closed("identification", date(2025, 1, 10), status="rejected")
    closed("identification", date(2025, 3, 10))
    closed("elimination", date(2025, 9, 10))
    closed("identification", date(2026, 2, 10))

    assert not monitored(date(2025, 3, 9))
    assert monitored(date(2025, 3, 10)) and monitored(date(2025, 9, 9))
    assert not monitored(date(2025, 9, 10)) and not monitored(date(2026, 2, 9))
    assert monitored(date(2026, 2, 10)) and monitored(date(2026, 2, 10) + timedelta(days=300))
