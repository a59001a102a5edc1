"""The county's counts (SPEC §7 "counts by area, type, risk and step"; issue 13's dashboard,
issue 14's reports API): grouped in SQL on SQLite and PostgreSQL alike, inside the reader's
area, the month of an approval taken in Beijing time."""

from __future__ import annotations

import importlib.util
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from server.config import PROJECT_ROOT
from server.domain.deadlines import StepDeadline
from server.domain.monitoring import DueStatus, quarter_of
from server.domain.pipeline import Procedure, Step
from server.errors import AppError
from server.figures.services import set_step_deadline
from server.households.models import Household
from server.monitoring.models import AssistanceEvaluation
from server.pipeline.models import Case
from server.reports.queries import Progress, counts, households_by_area, months_until, per_month
from tests.integration.conftest import user
from tests.integration.test_registry import submit
from tests.support.households import HEAD, id_number
from tests.support.seed import OTHER_TOWNSHIP, TOWNSHIP, VILLAGE

TODAY = date(2026, 5, 20)
COUNTY = VILLAGE[:6]


def _at(year, month, day, hour=4) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _household(session, area: str = VILLAGE, kind: str | None = None) -> str:
    household = Household(id=str(uuid.uuid4()), area_code=area, monitoring_type=kind)
    session.add(household)
    session.flush()
    return household.id


def _case(session, household: str | None, area: str, procedure="identification",
          step="county_approval", status="done", closed: datetime | None = None,
          entered: datetime | None = None) -> Case:
    entered = entered or _at(2026, 1, 5)
    case = Case(procedure=procedure, step=step, status=status, area_code=area,
                household_id=household, opened_at=entered, step_entered_at=entered,
                closed_at=closed if status != "open" else None)
    session.add(case)
    session.flush()
    return case


def test_approvals_are_counted_in_their_month_in_beijing(session):
    """An approval at 01:00 on 1 May in Beijing (17:00 UTC on 30 April) counts for May, one at
    23:00 on 30 April for April — the same on both databases; a rejected case counts for none;
    every month of the last twelve is listed, empty ones too."""
    county = user(session, "county")
    for closed in (_at(2026, 4, 30, 17), _at(2026, 4, 30, 15)):
        _case(session, _household(session), VILLAGE, closed=closed)
    _case(session, _household(session), VILLAGE, "elimination", closed=_at(2026, 5, 10))
    _case(session, _household(session), VILLAGE, status="rejected", closed=_at(2026, 5, 11))
    _case(session, _household(session), VILLAGE, closed=_at(2025, 5, 31, 15))  # 2025-05-31 23:00

    months = per_month(session, county, COUNTY, TODAY)

    assert [m.month for m in months] == months_until(TODAY) == [
        "2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12",
        "2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    found = {m.month: (m.identified, m.eliminated) for m in months if m.identified or m.eliminated}
    assert found == {"2026-04": (1, 0), "2026-05": (1, 1)}


def _surveyed(session, helper, seeded, sequence: int, size: int, **household) -> str:
    """A household taken in from a survey (A27 = 01, A23–A25 否 unless ``household`` says)."""
    members = [{**HEAD, "a5_name": f"户主{sequence}",
                "a7_id_number": id_number("430421", "19700101", 100 + 10 * sequence)}]
    members += [{**HEAD, "a5_name": f"成员{sequence}{n}", "a8_relation": "03",
                 "a7_id_number": id_number("430421", "19950101", 100 + 10 * sequence + n)}
                for n in range(1, size)]
    state, submission = submit(session, helper, seeded, members, household)
    assert state == "applied", submission.problems
    return submission.household_id


def test_monitoring_objects_are_counted_by_type_risk_and_area(session, helper, seeded):
    """SPEC §4/§7: monitoring objects (an identification approved, no elimination after) by
    A3 type, by numbered risk from their latest survey (① A34 below the line of the survey's
    year, ② A23 是, ⑥ A27 01 因病, ⑭ A27 09 其他), by township; a household whose risk was
    eliminated is counted apart, and one in an elimination procedure is still monitored."""
    county = user(session, "county")
    # A33 15 500: one member 15 500 ≥ 6 500 (no ①); three members 5 166.67 (①).
    rich = _surveyed(session, helper, seeded, 1, 1, a3_monitoring_type="01")
    poor = _surveyed(session, helper, seeded, 2, 3, a3_monitoring_type="02",
                     a23_housing_unsafe="01", a27_risk_types="01 09")
    gone = _surveyed(session, helper, seeded, 3, 1, a3_monitoring_type="02")
    _surveyed(session, helper, seeded, 4, 1)  # surveyed, never identified: not counted
    other = _household(session, f"{OTHER_TOWNSHIP}200", "03")  # no survey
    for household in (rich, poor, gone, other):
        _case(session, household, VILLAGE, closed=_at(2026, 2, 1))
    _case(session, gone, VILLAGE, "elimination", closed=_at(2026, 4, 1))
    _case(session, rich, VILLAGE, "elimination", step="township_review", status="open")
    session.commit()

    found = counts(session, county, TODAY, {})

    assert found.by_type == {"01": 1, "02": 1, "03": 1}
    assert found.people_by_type == {"01": 1, "02": 3, "03": 0}  # living members, not the gone
    assert [(a.area_code, a.monitored_people) for a in found.by_area] == [
        (TOWNSHIP, 4), (OTHER_TOWNSHIP, 0)]
    assert found.risks.surveyed == 2
    assert {n: c for n, c in found.risks.by_risk.items() if c} == {"1": 1, "2": 1, "6": 2,
                                                                   "14": 1}
    assert [(a.area_code, a.monitored, a.eliminated, a.open_cases) for a in found.by_area] == [
        (TOWNSHIP, 2, 1, 1), (OTHER_TOWNSHIP, 1, 0, 0)]
    assert found.progress == Progress(monitored=3, eliminating=1, eliminated=1)
    assert found.progress.rate == 25


def test_open_cases_are_counted_by_step_and_area_overdue_apart(session):
    """SPEC §6 deadlines (data): the open cases of each step, those past the step's limit apart;
    a township user counts its own villages only, and an area outside theirs is NOT_FOUND."""
    set_step_deadline(session, StepDeadline("43", Procedure.IDENTIFICATION, Step.VERIFICATION,
                                            5, "某县规定"))
    village_b = f"{TOWNSHIP}200"
    for area, entered in ((VILLAGE, _at(2026, 5, 18)), (VILLAGE, _at(2026, 4, 1)),
                          (village_b, _at(2026, 3, 1)), (f"{OTHER_TOWNSHIP}201", _at(2026, 3, 1))):
        _case(session, None, area, step="verification", status="open", entered=entered)
    _case(session, None, VILLAGE, step="application", status="open")
    session.commit()

    county = counts(session, user(session, "county"), TODAY, {})
    township = counts(session, user(session, "township"), TODAY, {})
    with pytest.raises(AppError) as outside:
        counts(session, user(session, "township"), TODAY, {"area_code": OTHER_TOWNSHIP})

    steps = {(s.procedure, s.step): (s.open, s.overdue) for s in county.cases.by_step}
    assert steps[(Procedure.IDENTIFICATION, Step.VERIFICATION)] == (4, 3)
    ages = {(s.procedure, s.step): s.by_age for s in county.cases.by_step}
    # working days in the step: 0–5 (entered on Monday), 6–10, 11–20, over 20 (the others)
    assert ages[(Procedure.IDENTIFICATION, Step.VERIFICATION)] == (1, 0, 0, 3)
    assert ages[(Procedure.IDENTIFICATION, Step.APPLICATION)] == (0, 0, 0, 1)
    assert steps[(Procedure.IDENTIFICATION, Step.APPLICATION)] == (1, 0)
    assert len(steps) == 12 and county.cases.overdue == 3
    assert [(a.area_code, a.open_cases, a.overdue_cases) for a in township.by_area] == [
        (VILLAGE, 3, 1), (village_b, 1, 1)]
    assert township.cases.open == 4
    assert outside.value.code == "NOT_FOUND"


def test_evaluations_owed_this_quarter_and_the_last(session):
    """SPEC §6 (one evaluation a quarter): of two monitoring objects, one was evaluated last
    quarter; last quarter's missing one is overdue, this quarter's two are due."""
    evaluated, missed = _household(session), _household(session)
    for household in (evaluated, missed):
        _case(session, household, VILLAGE, closed=_at(2026, 1, 10))
    session.add(AssistanceEvaluation(household_id=evaluated, evaluated_on=date(2026, 3, 2),
                                     evaluator="刘强", result="收入稳定"))
    elsewhere = _household(session, f"{OTHER_TOWNSHIP}200")  # the county's, not the village's
    _case(session, elsewhere, f"{OTHER_TOWNSHIP}200", closed=_at(2026, 1, 10))
    session.commit()

    county = counts(session, user(session, "county"), TODAY, {}).evaluations
    previous, current = counts(session, user(session, "county"), TODAY,
                               {"area_code": VILLAGE}).evaluations
    # a village reads only its own households' cases (latest_decisions narrowed to the area)
    in_village = households_by_area(session, user(session, "village"), VILLAGE,
                                    TODAY).evaluations

    assert (previous.period, previous.households, previous.done, previous.missing,
            previous.missing_status) == ("2026Q1", 2, 1, 1, DueStatus.OVERDUE)
    assert (current.period, current.done, current.missing, current.missing_status) == (
        quarter_of(TODAY).label, 0, 2, DueStatus.DUE)
    assert in_village == [previous, current]
    assert [e.households for e in county] == [3, 3]


def test_the_migration_fills_the_risks_of_stored_surveys_as_the_take_in_does(session, helper,
                                                                           seeded):
    """The numbered risks of households surveyed before the column existed are filled by its
    migration from their latest survey, by the take-in's rule
    (server.domain.notices.numbered_risks)."""
    [path] = (PROJECT_ROOT / "migrations" / "versions").glob("*_household_numbered_risks.py")
    spec = importlib.util.spec_from_file_location("numbered_risks_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    _surveyed(session, helper, seeded, 1, 3, a23_housing_unsafe="01", a27_risk_types="01 09")
    _surveyed(session, helper, seeded, 2, 1, a27_risk_types="")
    def risks():
        return session.scalars(select(Household.numbered_risks)
                               .order_by(Household.created_at)).all()

    taken_in = risks()
    session.execute(update(Household).values(numbered_risks=""))

    migration._fill(session.connection())

    assert taken_in == [" 1 2 6 14 ", ""]
    assert risks() == taken_in


def test_counts_are_kept_while_nothing_they_count_changes(session):
    """Issue 13 (the dashboard under 500 ms, "cached briefly if needed"): an area's counts are
    kept for a few minutes, and computed again as soon as a case moves (an event) or when
    they expire."""
    from server.pipeline.services import open_case
    from server.reports.queries import cached_counts

    now = [1000.0]
    county = user(session, "county")

    def opened() -> int:
        return cached_counts(session, county, TODAY, {}, 300, clock=lambda: now[0]).cases.open

    first = opened()
    _case(session, None, VILLAGE, step="application", status="open")  # no event: not seen yet
    kept = opened()
    open_case(session, Procedure.IDENTIFICATION, VILLAGE, user(session, "village"))
    moved = opened()
    _case(session, None, VILLAGE, step="application", status="open")
    now[0] += 301
    expired = opened()

    assert (first, kept, moved, expired) == (0, 0, 2, 3)
