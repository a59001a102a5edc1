"""Take in the assistance measures form (stage two, A39–A52) for the household it picked."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from server.audit.services import record
from server.domain import fields
from server.domain.codes import YES
from server.domain.members import Severity
from server.domain.survey import Problem, read_values
from server.households.models import MeasureRecord
from server.households.services import plain
from server.intake.common import finish, picked_household
from server.submissions.models import Submission, SubmissionState

MEASURES = frozenset(field.name for field in fields.MEASURES)


def take_in_measures(session: Session, submission: Submission, values, today: date) -> str:
    problems: list[Problem] = []
    household = picked_household(session, submission, values, problems)
    typed = read_values(values.household, list(values.household), today, problems)
    chosen = [name for name in typed if name in MEASURES]
    if not chosen:
        problems.append(Problem(Severity.ERROR, "MEASURES_EMPTY",
                                fields.code_span(fields.MEASURES)))
    if household is None or any(p.severity is Severity.ERROR for p in problems):
        return finish(session, submission, SubmissionState.INVALID, problems)
    session.add(MeasureRecord(
        household_id=household.id, submission_id=submission.id,
        measure_date=typed.get("measure_date") or today,
        green_channel=typed.get("green_channel") == YES,
        values={k: plain(v) for k, v in typed.items()}))
    submission.household_id = household.id
    record(session, "measures.recorded", "household", household.id, None,
           submission_id=submission.id, measures=chosen)
    return finish(session, submission, SubmissionState.APPLIED, problems)
