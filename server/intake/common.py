"""What every form's take-in shares: the submission's end state, the yearly figure of the visit
year, the household a follow-up form picked (within the submitter's area). A supervisor's
corrections over the phone's answers are ``server.submissions.instance.corrected``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.audit.services import record, record_many
from server.domain.areas import contains
from server.domain.figures import FigureKind, FigureMissing
from server.domain.members import Severity
from server.domain.survey import Problem
from server.figures.services import figure_in_force
from server.households.models import Household
from server.rows import update_rows
from server.submissions.models import Submission, SubmissionState


def finish(session: Session, submission: Submission, state: SubmissionState,
           problems: list[Problem]) -> str:
    """End a take-in: the submission's state and located problems, in the audit log."""
    submission.state = state
    submission.problems = problem_rows(problems)
    submission.applied_at = func.now()
    session.flush()
    record(session, f"submission.{state}", "submission", submission.id, None,
           household_id=submission.household_id,
           errors=len([p for p in problems if p.severity is Severity.ERROR]) or None)
    return state


def problem_rows(problems: list[Problem]) -> list[dict]:
    """A submission's ``problems`` column: its located problems as stored."""
    return [{"severity": p.severity.value, "code": p.code, "field": p.field, "member": p.member,
             "message": p.text} for p in problems]


def finish_many(session: Session,
                ends: list[tuple[int, SubmissionState, list[Problem], str | None]]) -> None:
    """``finish`` for a batch: (submission id, state, problems, household id) each, in two
    set-based writes (the submissions' ends, and their audit entries: ``server.rows``)."""
    if not ends:
        return
    update_rows(session.connection(), Submission.__table__, "id", [
        {"id": submission_id, "state": str(state), "problems": problem_rows(problems),
         "household_id": household_id}
        for submission_id, state, problems, household_id in ends], applied_at=func.now())
    record_many(session, [
        (f"submission.{state}", "submission", submission_id, None,
         {"household_id": household_id,
          "errors": len([p for p in problems if p.severity is Severity.ERROR]) or None})
        for submission_id, state, problems, household_id in ends])


def figure(session: Session, province: str, values, today: date,
            kind: FigureKind = FigureKind.MONITORING_LINE):
    """The figure in force for the visit year of ``values`` (None when the province has none)."""
    return figure_of_year(session, province, visit_year(values, today), kind)


def figure_of_year(session: Session, province: str, year: int,
                   kind: FigureKind = FigureKind.MONITORING_LINE):
    """The figure in force for ``year`` (None when the province has none)."""
    try:
        return figure_in_force(session, province, year, kind).value
    except FigureMissing:
        return None


def visit_year(values, today: date) -> int:
    """The year of the form's visit date (today's year when it has none)."""
    visit = values.household.get("visit_date", "")[:4]
    return int(visit) if visit.isdigit() else today.year


def picked_household(session: Session, submission: Submission, values,
                     problems: list[Problem]) -> Household | None:
    """The household a follow-up form picked from the entity list, if it is the submitter's."""
    household = session.get(Household, values.household.get("household", ""))
    submitter_area = session.scalar(select(User.area_code).where(
        User.id == submission.submitter_id))
    if household is None or not submitter_area or not contains(submitter_area,
                                                               household.area_code):
        problems.append(Problem(Severity.ERROR, "HOUSEHOLD_UNKNOWN", "户"))
        return None
    return household
