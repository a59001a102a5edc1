"""Money through the take-in (issue 11, SPEC §2/§3): a household survey whose income item is not
a plain decimal of at most two places ends ``invalid`` with one located problem, on SQLite and
PostgreSQL; nothing is written to the registry."""

from __future__ import annotations

from sqlalchemy import func, select

from server.households.models import Household, SurveyVersion
from tests.integration.test_registry import submit
from tests.support.households import CHILD, HEAD, SPOUSE


def test_wages_written_with_a_thousands_separator_make_the_survey_invalid(session, helper,
                                                                          seeded):
    """SPEC §2/§3: A28 = "1,000" is refused — one FIELD_INVALID at A28, not read as 1000 and
    not also "required"; the household is not created."""
    state, submission = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD],
                               {"a28_wages": "1,000"})

    assert state == "invalid"
    assert [(p["code"], p["field"], p["member"]) for p in submission.problems] == [
        ("FIELD_INVALID", "A28", None)]
    assert session.scalar(select(func.count()).select_from(Household)) == 0
    assert session.scalar(select(func.count()).select_from(SurveyVersion)) == 0


def test_wages_with_two_places_as_collect_writes_them_are_taken_in_exactly(session, helper,
                                                                           seeded):
    """SPEC §3: exact decimals — "12000.0" (Collect's decimal answer) and "0.05" are read as
    written: A33 = 12000 + 3000 + 0 + 1500.05 − 1000 = 15500.05."""
    state, submission = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD],
                               {"a28_wages": "12000.0", "a31_transfer_income": "1500.05"})

    assert state == "applied", submission.problems
    version = session.scalar(select(SurveyVersion))
    assert str(version.a33_net_income) == "15500.05"
