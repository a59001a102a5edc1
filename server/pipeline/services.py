"""Use cases of the procedures: open a case, act on it, objections, monitoring contacts.

Each change of state goes through ``server.domain.pipeline.transition`` and leaves a CaseEvent
and an audit entry. The facts the rules need (team signatures, open objections, the province's
notice days, the contact, the elimination blockers) are read here from the registry.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth import Principal
from server.db import utcnow
from server.domain.figures import FigureKind, FigureMissing
from server.domain.members import Finding, Severity
from server.domain.pipeline import (
    STEPS,
    Action,
    CaseState,
    Facts,
    PipelineError,
    Procedure,
    Status,
    Step,
    transition,
)
from server.errors import AppError
from server.figures.services import figure_in_force
from server.households.models import EliminationAssessment, Household
from server.pipeline.models import Case, CaseEvent, MonitoringContact, Objection
from server.submissions.models import Submission, SubmissionAttachment

TEAM_SIGNATURE = "/team_signature"


def _case_in_area(session: Session, case_id: int, user: Principal) -> Case:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None or not case.area_code.startswith(user.area_code):
        raise AppError("NOT_FOUND")
    return case


def open_case(session: Session, procedure: Procedure, area_code: str, user: Principal,
              household_id: str | None = None, declaration_id: int | None = None,
              origin: str | None = None) -> Case:
    if not area_code.startswith(user.area_code):
        raise AppError("NOT_FOUND")
    already = session.scalar(select(Case.id).where(
        Case.household_id == household_id, Case.procedure == procedure.value,
        Case.status == Status.OPEN.value)) if household_id else None
    if already is not None:
        raise AppError("CASE_ALREADY_OPEN", case_id=already)
    case = Case(procedure=procedure.value, step=STEPS[procedure][0].value, area_code=area_code,
                household_id=household_id, declaration_id=declaration_id, origin=origin)
    session.add(case)
    session.flush()
    _event(session, case, user, "open", None, opinion=None)
    return case


def act(session: Session, case_id: int, action: Action, user: Principal, today: date,
        opinion: str = "", signatures: list[str] | None = None) -> Case:
    """Approve, return or reject a case's current step (one transition, logged)."""
    case = _case_in_area(session, case_id, user)
    state = CaseState(Procedure(case.procedure), Step(case.step), Status(case.status),
                      case.notice_started)
    try:
        moved = transition(state, action, user.role.value, today, _facts(session, case, today),
                           opinion)
    except PipelineError as error:
        raise AppError("PIPELINE_RULE", rule=error.code, detail=error.message) from error
    before = case.step
    case.step, case.status, case.notice_started = moved.step, moved.status, moved.notice_started
    if moved.step != state.step:
        case.step_entered_at = utcnow()
    if moved.status is not Status.OPEN:
        case.closed_at = utcnow()
        if moved.status is Status.DONE and state.procedure is Procedure.ELIMINATION:
            case.decided_on = today  # A54: the date of county approval
    session.flush()
    _event(session, case, user, action.value, before, opinion or None, signatures or [])
    return case


def _event(session: Session, case: Case, user: Principal, action: str, from_step: str | None,
           opinion: str | None, signatures: list[str] = ()) -> None:
    session.add(CaseEvent(case_id=case.id, user_id=user.id, action=action, from_step=from_step,
                          to_step=case.step, status=case.status, opinion=opinion,
                          signatures=list(signatures)))
    record(session, f"case.{action}", "case", case.id, user.id, procedure=case.procedure,
           from_step=from_step, to_step=case.step, status=case.status, opinion=opinion)


def _facts(session: Session, case: Case, today: date) -> Facts:
    try:
        notice_days = int(figure_in_force(session, case.area_code[:2], today.year,
                                          FigureKind.NOTICE_DAYS).value)
    except FigureMissing:
        notice_days = 7  # SPEC §6: the 7-day notice, where a province has set nothing
    objections = session.scalar(select(func.count()).select_from(Objection).where(
        Objection.case_id == case.id, Objection.status == "open"))
    contact = session.scalar(select(MonitoringContact.id).where(
        MonitoringContact.household_id == case.household_id,
        MonitoringContact.replaced_at.is_(None))) if case.household_id else None
    return Facts(team_size=_team_size(session, case), open_objections=objections,
                 notice_days=notice_days, contact_assigned=contact is not None,
                 elimination_blockers=_blockers(session, case))


def _evidence(session: Session, case: Case) -> int | None:
    """The submission that documents the case's home verification."""
    if case.household_id is None:
        return None
    if case.procedure == Procedure.ELIMINATION.value:
        return session.scalar(select(EliminationAssessment.submission_id).where(
            EliminationAssessment.household_id == case.household_id)
            .order_by(EliminationAssessment.id.desc()).limit(1))
    household = session.get(Household, case.household_id)
    return household.updated_by_submission_id if household else None


def _team_size(session: Session, case: Case) -> int:
    """Team members who signed on the phone (the verification row of 附件3/附件5)."""
    submission_id = _evidence(session, case)
    if submission_id is None:
        return 0
    return session.scalar(select(func.count()).select_from(SubmissionAttachment).where(
        SubmissionAttachment.submission_id == submission_id,
        SubmissionAttachment.field_path.endswith(TEAM_SIGNATURE),
        SubmissionAttachment.media_sha256.is_not(None)))


def _blockers(session: Session, case: Case) -> tuple[Finding, ...] | None:
    if case.procedure != Procedure.ELIMINATION.value:
        return ()
    submission_id = _evidence(session, case)
    if submission_id is None:
        return None
    problems = session.scalar(select(Submission.problems)
                              .where(Submission.id == submission_id)) or []
    return tuple(Finding(Severity.ERROR, p["code"], p["field"], p["message"])
                 for p in problems if p["severity"] == "error")


def raise_objection(session: Session, case_id: int, user: Principal, text: str) -> Objection:
    case = _case_in_area(session, case_id, user)
    if case.step != Step.PUBLIC_NOTICE.value or case.status != Status.OPEN.value:
        raise AppError("PIPELINE_RULE", rule="NOT_IN_NOTICE", detail="只能在公示期间提出异议")
    objection = Objection(case_id=case.id, text=text)
    session.add(objection)
    session.flush()
    record(session, "objection.raised", "case", case.id, user.id, objection=objection.id)
    return objection


def close_objection(session: Session, objection_id: int, user: Principal,
                    result: str) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise AppError("NOT_FOUND")
    _case_in_area(session, objection.case_id, user)
    if not result.strip():
        raise AppError("REASON_REQUIRED")
    objection.status, objection.result, objection.closed_by = "closed", result, user.id
    session.flush()
    record(session, "objection.closed", "case", objection.case_id, user.id,
           objection=objection.id, result=result)
    return objection


def assign_contact(session: Session, household_id: str, user: Principal, name: str, unit: str,
                   position: str, phone: str | None = None, reason: str = "") -> MonitoringContact:
    """Set the household's monitoring contact; an existing one is replaced (with a reason),
    never removed (风险不消除，帮扶责任不脱钩)."""
    household = session.get(Household, household_id)
    if household is None or not household.area_code.startswith(user.area_code):
        raise AppError("NOT_FOUND")
    current = session.scalar(select(MonitoringContact).where(
        MonitoringContact.household_id == household_id, MonitoringContact.replaced_at.is_(None)))
    if current is not None:
        if not reason.strip():
            raise AppError("REASON_REQUIRED")
        current.replaced_at, current.replaced_reason = utcnow(), reason
    contact = MonitoringContact(household_id=household_id, name=name, unit=unit,
                                position=position, phone=phone, assigned_by=user.id)
    session.add(contact)
    session.flush()
    record(session, "contact.replaced" if current else "contact.assigned", "household",
           household_id, user.id, contact=name, unit=unit, reason=reason or None)
    return contact
