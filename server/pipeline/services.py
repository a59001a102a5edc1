"""Use cases of the procedures: open a case, act on it, objections, monitoring contacts.

Each change of state goes through ``server.domain.pipeline.transition`` and leaves a CaseEvent
and an audit entry. The facts the rules need (team signatures, open objections, the province's
notice days, the contact, the elimination blockers) are read here from the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import Role, User
from server.audit.services import record
from server.auth import Principal, check_role
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
BULK_LIMIT = 200  # cases in one bulk action
# Who may act on many cases at once: the reviewing levels (乡镇审核, 县级审定).
BULK_ROLES = frozenset({Role.TOWNSHIP, Role.COUNTY})
# Who closes an objection after investigating it (the 两委 investigates, SPEC §6; the levels
# above may too) and who pairs or replaces a monitoring contact: not the helpers who collect.
MANAGING_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY})



def case_in_area(session: Session, case_id: int, user: Principal) -> Case:
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
        opinion: str = "", signatures: list[str] | None = None,
        attachments: list[dict] | None = None) -> Case:
    """Approve, return or reject a case's current step (one transition, logged).

    ``signatures`` are media keys, ``attachments`` the event's records of the documents
    uploaded with the action (see ``act_signed``)."""
    case = case_in_area(session, case_id, user)
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
    _event(session, case, user, action.value, before, opinion or None, signatures or [],
           attachments or [])
    return case


def _event(session: Session, case: Case, user: Principal, action: str, from_step: str | None,
           opinion: str | None, signatures: Sequence[str] = (),
           attachments: Sequence[dict] = ()) -> None:
    session.add(CaseEvent(case_id=case.id, user_id=user.id, action=action, from_step=from_step,
                          to_step=case.step, status=case.status, opinion=opinion,
                          signatures=list(signatures), attachments=list(attachments)))
    record(session, f"case.{action}", "case", case.id, user.id, procedure=case.procedure,
           from_step=from_step, to_step=case.step, status=case.status, opinion=opinion,
           signatures=list(signatures) or None,
           attachments=[{"key": a["key"], "name": a["name"]} for a in attachments] or None)


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


def verification_submission(session: Session, case: Case) -> int | None:
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
    submission_id = verification_submission(session, case)
    if submission_id is None:
        return 0
    return session.scalar(select(func.count()).select_from(SubmissionAttachment).where(
        SubmissionAttachment.submission_id == submission_id,
        SubmissionAttachment.field_path.endswith(TEAM_SIGNATURE),
        SubmissionAttachment.media_sha256.is_not(None)))


def _blockers(session: Session, case: Case) -> tuple[Finding, ...] | None:
    if case.procedure != Procedure.ELIMINATION.value:
        return ()
    submission_id = verification_submission(session, case)
    if submission_id is None:
        return None
    problems = session.scalar(select(Submission.problems)
                              .where(Submission.id == submission_id)) or []
    return tuple(Finding(Severity.ERROR, p["code"], p["field"], p["message"])
                 for p in problems if p["severity"] == "error")


def raise_objection(session: Session, case_id: int, user: Principal, text: str) -> Objection:
    case = case_in_area(session, case_id, user)
    if case.step != Step.PUBLIC_NOTICE.value or case.status != Status.OPEN.value:
        raise AppError("PIPELINE_RULE", rule="NOT_IN_NOTICE", detail="只能在公示期间提出异议")
    objection = Objection(case_id=case.id, text=text, raised_by=user.id)
    session.add(objection)
    session.flush()
    record(session, "objection.raised", "case", case.id, user.id, objection=objection.id)
    return objection


def close_objection(session: Session, objection_id: int, user: Principal,
                    result: str, case_id: int | None = None) -> Objection:
    """Close an objection with the result of its investigation (once; village and above)."""
    objection = session.get(Objection, objection_id)
    if objection is None or (case_id is not None and objection.case_id != case_id):
        raise AppError("NOT_FOUND")
    case_in_area(session, objection.case_id, user)
    check_role(user, MANAGING_ROLES)
    if objection.status == "closed":
        raise AppError("OBJECTION_CLOSED", objection_id=objection.id)
    if not result.strip():
        raise AppError("REASON_REQUIRED")
    objection.status, objection.result, objection.closed_by = "closed", result, user.id
    objection.closed_at = utcnow()
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
    check_role(user, MANAGING_ROLES)
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


# --- reading a case: its version, its event log, its signatures ----------------------------


def lock_case(session: Session, case_id: int, user: Principal) -> Case:
    """The case, in the user's area, locked for an action (PostgreSQL: SELECT … FOR UPDATE)."""
    return case_in_area(session, case_id, user)


def case_version(session: Session, case: Case) -> int:
    """The id of the case's last event. Every change of a case's state writes an event, so
    this changes on every action: the ETag is made of it (see server/pipeline/api.py)."""
    return session.scalar(select(func.max(CaseEvent.id))
                          .where(CaseEvent.case_id == case.id)) or 0


def case_events(session: Session, case: Case) -> list:
    """The append-only log, oldest first: (event, the actor's full name, the actor's role)."""
    return session.execute(
        select(CaseEvent, User.full_name, User.role)
        .outerjoin(User, User.id == CaseEvent.user_id)
        .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()


@dataclass(frozen=True)
class BulkOutcome:
    case_id: int
    case: Case | None = None
    error: AppError | None = None


def bulk_act(session: Session, case_ids: Iterable[int], action: Action, user: Principal,
             today: date, opinion: str = "") -> list[BulkOutcome]:
    """One action on many cases (township and county): each case is checked by the same rules
    and logged on its own, in a savepoint of its own, so one refusal leaves the others done.

    Cases are locked in ascending id order, so two bulk requests cannot deadlock; the outcomes
    come back in the order asked.
    """
    check_role(user, BULK_ROLES)
    asked = list(dict.fromkeys(case_ids))
    if len(asked) > BULK_LIMIT:
        raise AppError("BAD_REQUEST", detail=f"一次最多办理{BULK_LIMIT}件案件")
    outcomes: dict[int, BulkOutcome] = {}
    for case_id in sorted(asked):
        try:
            with session.begin_nested():
                outcomes[case_id] = BulkOutcome(case_id, act(session, case_id, action, user,
                                                             today, opinion))
        except AppError as error:
            outcomes[case_id] = BulkOutcome(case_id, error=error)
    done = [o.case_id for o in outcomes.values() if o.error is None]
    refused = {str(o.case_id): o.error.params.get("rule", o.error.code)
               for o in outcomes.values() if o.error is not None}
    record(session, "case.bulk_action", "case", "bulk", user.id, case_action=action.value,
           opinion=opinion or None, succeeded=done, failed=refused or None)
    return [outcomes[case_id] for case_id in asked]


# --- green channel: measures on a case ----------------------------------------------------


def household_contacts(session: Session, case: Case) -> list[MonitoringContact]:
    """The case's household's monitoring contacts, the replaced ones too, oldest first."""
    if case.household_id is None:
        return []
    return list(session.scalars(select(MonitoringContact)
                                .where(MonitoringContact.household_id == case.household_id)
                                .order_by(MonitoringContact.id)))


def case_objections(session: Session, case: Case) -> list[Objection]:
    return list(session.scalars(select(Objection).where(Objection.case_id == case.id)
                                .order_by(Objection.id)))
