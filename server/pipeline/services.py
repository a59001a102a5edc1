"""Use cases of the procedures: open a case, act on it, objections, monitoring contacts.

Each change of state goes through ``server.domain.pipeline.transition`` and leaves a CaseEvent
and an audit entry. The facts the rules need (team signatures, open objections, the province's
notice days, the contact, the elimination blockers, the signers) are read here from the
registry, at the moment of the action: the elimination blockers are worked out again from the
latest assessment, the household's current roster and the measures recorded up to that day, not
taken from what the assessment found when it came in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.audit.services import record
from server.auth import Principal, check_role
from server.clock import today as clock_today
from server.db import utcnow
from server.domain.areas import contains
from server.domain.codes import YES
from server.domain.elimination import STANDARDS, elimination_findings
from server.domain.fields import ID_NUMBER, NET_INCOME_PER_CAPITA, SOCIAL_PROTECTION
from server.domain.figures import FigureKind, FigureMissing
from server.domain.members import Finding, Severity, has_labour_capacity
from server.domain.pipeline import (
    STEPS,
    Action,
    CaseState,
    Facts,
    PipelineError,
    Procedure,
    Signer,
    Status,
    Step,
    check_opening,
    required_signers,
    transition,
)
from server.domain.roles import Role
from server.errors import AppError
from server.figures.services import figure_in_force
from server.households.models import (
    Declaration,
    EliminationAssessment,
    Household,
    MeasureRecord,
    Person,
    SurveyVersion,
)
from server.monitoring.services import monitored_households
from server.pipeline.models import Case, CaseEvent, MonitoringContact, Objection
from server.submissions.models import SubmissionAttachment

TEAM_SIGNATURE = "/team_signature"
# The phone's signatures that stand for a signer (form field → capacity): the applicant signs
# 附件1 or has the thumbprint on paper photographed; the household head confirms 附件5.
PHONE_SIGNERS = {"sig_applicant": Signer.APPLICANT, "photo_thumbprint": Signer.APPLICANT,
                 "sig_head": Signer.HOUSEHOLD_HEAD}
BULK_LIMIT = 200  # cases in one bulk action
# Who may act on many cases at once: the reviewing levels (乡镇审核, 县级审定).
BULK_ROLES = frozenset({Role.TOWNSHIP, Role.COUNTY})
# Who closes an objection after investigating it (the 两委 investigates, SPEC §6; the levels
# above may too) and who pairs or replaces a monitoring contact: not the helpers who collect.
MANAGING_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY})



def case_in_area(session: Session, case_id: int, user: Principal) -> Case:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None or not contains(user.area_code, case.area_code):
        raise AppError("NOT_FOUND")
    return case


def open_case(session: Session, procedure: Procedure, area_code: str, user: Principal,
              household_id: str | None = None, declaration_id: int | None = None,
              origin: str | None = None, today: date | None = None) -> Case:
    """Open a case (SPEC §6). An identification only for a household that is not a monitoring
    object, an elimination only for one (``monitoring.services.monitored_households``) and only
    by the village; never while another case of the household is open, of either procedure."""
    if not contains(user.area_code, area_code):
        raise AppError("NOT_FOUND")
    if household_id is not None:
        # One case at a time per household: serialise openings on the household's row.
        session.get(Household, household_id, with_for_update=True)
    monitored = household_id is not None and is_monitored(session, household_id,
                                                               today or clock_today())
    try:
        check_opening(procedure, user.role.value, monitored)
    except PipelineError as error:
        raise AppError(error.code, role=user.role.value, **error.params) from error
    already = session.scalar(select(Case.id).where(
        Case.household_id == household_id, Case.status == Status.OPEN.value)
        .order_by(Case.id).limit(1)) if household_id else None
    if already is not None:
        raise AppError("CASE_ALREADY_OPEN", case_id=already)
    case = Case(procedure=procedure.value, step=STEPS[procedure][0].value, area_code=area_code,
                household_id=household_id, declaration_id=declaration_id, origin=origin)
    session.add(case)
    session.flush()
    _event(session, case, user, "open", None, opinion=None)
    return case


def open_household_case(session: Session, procedure: Procedure, household_id: str,
                        user: Principal, origin: str | None = None) -> Case:
    """``open_case`` for a household of the registry, in its area (NOT_FOUND when there is no
    such household, or it lies outside the user's area)."""
    household = session.get(Household, household_id)
    if household is None:
        raise AppError("NOT_FOUND")
    return open_case(session, procedure, household.area_code, user, household.id,
                     origin=origin)


def is_monitored(session: Session, household_id: str, on: date) -> bool:
    """Whether the household is a monitoring object on ``on`` (the one rule of
    ``server.monitoring.services.monitored_households``)."""
    monitored = monitored_households(on)
    return session.scalar(select(monitored.c.household_id)
                          .where(monitored.c.household_id == household_id)) is not None


def signature_entries(signatures: Sequence[str | dict] | None) -> list[dict]:
    """Signatures as stored on an event: ``{"key", "signer"}`` (signer None when the upload
    named no capacity). Events written before signers existed hold bare media keys."""
    return [{"key": s, "signer": None} if isinstance(s, str)
            else {"key": s["key"], "signer": s.get("signer")} for s in signatures or ()]


def act(session: Session, case_id: int, action: Action, user: Principal, today: date,
        opinion: str = "", signatures: Sequence[str | dict] | None = None,
        attachments: list[dict] | None = None) -> Case:
    """Approve, return or reject a case's current step (one transition, logged): the case is
    locked (``lock_case``), then acted on (``act_on``)."""
    case = lock_case(session, case_id, user)
    act_on(session, case, action, user, today, opinion, signatures, attachments)
    return case


def act_on(session: Session, case: Case, action: Action, user: Principal, today: date,
           opinion: str = "", signatures: Sequence[str | dict] | None = None,
           attachments: list[dict] | None = None) -> int:
    """``act`` on a case the caller has locked (``lock_case``: once per action, e.g. while it
    checks the version the client saw); returns the case's new version (``case_version``: the
    id of the event the action writes), so nobody needs to read it again.

    ``signatures`` are media keys, or ``{"key", "signer"}`` with the signer's capacity (a
    ``domain.pipeline.Signer`` value) — the capacities are what the approval's signature rule
    looks at; ``attachments`` the event's records of the documents uploaded with the action
    (see ``signatures.act_signed``)."""
    state = CaseState(Procedure(case.procedure), Step(case.step), Status(case.status),
                      case.notice_started)
    signed = signature_entries(signatures)
    for entry in signed:
        if entry["signer"] is not None:
            Signer(entry["signer"])  # a capacity the domain knows (the API checked it)
    try:
        facts = _facts(session, case, today, action,
                       frozenset(e["signer"] for e in signed if e["signer"]))
        moved = transition(state, action, user.role.value, today, facts, opinion)
    except PipelineError as error:
        raise AppError.of(error) from error
    before = case.step
    case.step, case.status, case.notice_started = moved.step, moved.status, moved.notice_started
    if moved.step != state.step:
        case.step_entered_at = utcnow()
    if moved.status is not Status.OPEN:
        case.closed_at = utcnow()
        if moved.status is Status.DONE and state.procedure is Procedure.ELIMINATION:
            case.decided_on = today  # A54: the date of county approval
    session.flush()
    event = _event(session, case, user, action.value, before, opinion or None, signed,
                   attachments or [])
    session.flush()
    return event.id


def _event(session: Session, case: Case, user: Principal, action: str, from_step: str | None,
           opinion: str | None, signatures: Sequence[dict] = (),
           attachments: Sequence[dict] = ()) -> CaseEvent:
    event = CaseEvent(case_id=case.id, user_id=user.id, action=action, from_step=from_step,
                      to_step=case.step, status=case.status, opinion=opinion,
                      signatures=list(signatures), attachments=list(attachments))
    session.add(event)
    record(session, f"case.{action}", "case", case.id, user.id, procedure=case.procedure,
           from_step=from_step, to_step=case.step, status=case.status, opinion=opinion,
           signatures=[dict(s) for s in signatures] or None,
           attachments=[{"key": a["key"], "name": a["name"]} for a in attachments] or None)
    return event


def notice_days(session: Session, area_code: str, year: int) -> int:
    """The province's notice days for a notice begun in ``year`` (7 where it has set none)."""
    try:
        return int(figure_in_force(session, area_code[:2], year,
                                   FigureKind.NOTICE_DAYS).value)
    except FigureMissing:
        return 7  # SPEC §6: the 7-day notice, where a province has set nothing


def _facts(session: Session, case: Case, today: date, action: Action = Action.APPROVE,
           uploaded_signers: frozenset[str] = frozenset()) -> Facts:
    """What the rules look at, read now. Only an approval needs them: a return or a rejection
    is decided on the role and the reason alone."""
    if action is not Action.APPROVE:
        return Facts()
    started = case.notice_started or today
    objections = session.scalar(select(func.count()).select_from(Objection).where(
        Objection.case_id == case.id, Objection.status == "open"))
    contact = session.scalar(select(MonitoringContact.id).where(
        MonitoringContact.household_id == case.household_id,
        MonitoringContact.replaced_at.is_(None))) if case.household_id else None
    step = Step(case.step)
    return Facts(team_size=_team_size(session, case), open_objections=objections,
                 notice_days=notice_days(session, case.area_code, started.year),
                 contact_assigned=contact is not None,
                 elimination_blockers=(_blockers(session, case, today)
                                       if step is Step.COUNTY_APPROVAL else ()),
                 signers=uploaded_signers | _phone_signers(session, case, step))


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


def _phone_signers(session: Session, case: Case, step: Step) -> frozenset[str]:
    """The signers the step needs that signed on the phone: the applicant on the household
    form's 附件1 (the submission that documents the verification) or on the self-declaration
    that started the case; the household head on the elimination form's 附件5."""
    wanted = {s.value for s in required_signers(Procedure(case.procedure), step)}
    fields = [name for name, signer in PHONE_SIGNERS.items() if signer.value in wanted]
    if not fields:
        return frozenset()
    submissions = [verification_submission(session, case)]
    if case.declaration_id is not None:
        submissions.append(session.scalar(select(Declaration.submission_id)
                                          .where(Declaration.id == case.declaration_id)))
    submissions = [s for s in submissions if s is not None]
    if not submissions:
        return frozenset()
    paths = session.scalars(select(SubmissionAttachment.field_path).where(
        SubmissionAttachment.submission_id.in_(submissions),
        SubmissionAttachment.media_sha256.is_not(None)))
    found = {path.rsplit("/", 1)[-1] for path in paths}
    return frozenset(PHONE_SIGNERS[name].value for name in fields if name in found)


def _blockers(session: Session, case: Case, today: date) -> tuple[Finding, ...] | None:
    """The blocking findings of ``domain.elimination.elimination_findings`` as the registry
    stands on ``today``: the latest assessment's income and standards, the figures in force for
    its visit year, the household's current roster's labour capacity, and whether a
    social-protection measure (A48) has been recorded by today — by the measures form or on a
    case. None when the household has no assessment."""
    if case.procedure != Procedure.ELIMINATION.value:
        return ()
    if case.household_id is None:
        return None
    assessment = session.scalar(select(EliminationAssessment).where(
        EliminationAssessment.household_id == case.household_id)
        .order_by(EliminationAssessment.id.desc()).limit(1))
    if assessment is None:
        return None
    province, year = case.area_code[:2], assessment.visit_date.year
    try:
        line = figure_in_force(session, province, year, FigureKind.MONITORING_LINE).value
        floor = figure_in_force(session, province, year, FigureKind.ELIMINATION_FLOOR).value
    except FigureMissing as missing:
        return (Finding(Severity.ERROR, missing.code, NET_INCOME_PER_CAPITA.code, missing.params),)
    protected = any(SOCIAL_PROTECTION.name in (values or {}) for values in session.scalars(
        select(MeasureRecord.values).where(MeasureRecord.household_id == case.household_id,
                                           MeasureRecord.measure_date <= today)))
    findings = elimination_findings(
        a34=assessment.a34_net_income_per_capita, floor=floor, line=line,
        standards={name: (assessment.values or {}).get(name) == YES for name in STANDARDS},
        labour_capacity=has_labour_capacity(current_roster(session, case.household_id)),
        social_protection=protected)
    return tuple(f for f in findings if f.severity is Severity.ERROR)


def current_roster(session: Session, household_id: str) -> list[dict]:
    """The members of the household's latest survey who still belong to it: a member whose
    person has since moved to another household, or died, is left out (a member without an
    ID number stays, as the survey has them)."""
    household = session.get(Household, household_id)
    survey = (session.get(SurveyVersion, household.latest_survey_id)
              if household is not None and household.latest_survey_id else None)
    if survey is None:
        return []
    members = survey.member_values or []
    numbers = [m.get(ID_NUMBER.name) for m in members if m.get(ID_NUMBER.name)]
    if not numbers:
        return list(members)
    here = set(session.scalars(select(Person.id_number).where(
        Person.id_number.in_(numbers), Person.household_id == household_id,
        Person.deceased.is_(False))))
    return [m for m in members if not m.get(ID_NUMBER.name) or m[ID_NUMBER.name] in here]


def raise_objection(session: Session, case_id: int, user: Principal, text: str) -> Objection:
    case = case_in_area(session, case_id, user)
    if case.step != Step.PUBLIC_NOTICE.value or case.status != Status.OPEN.value:
        raise AppError("NOT_IN_NOTICE")
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
    if household is None or not contains(user.area_code, household.area_code):
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
    """The case, in the user's area, locked for an action (PostgreSQL: SELECT … FOR UPDATE).
    One action locks its case once (``act_on`` acts on the locked case)."""
    return case_in_area(session, case_id, user)


def case_version(session: Session, case: Case) -> int:
    """The id of the case's last event. Every change of a case's state writes an event, so
    this changes on every action: the ETag is made of it (see server/pipeline/api.py). An
    action reads it once, before it acts: ``act_on`` returns the new one."""
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
        raise AppError("BULK_TOO_MANY", limit=BULK_LIMIT)
    outcomes: dict[int, BulkOutcome] = {}
    for case_id in sorted(asked):
        try:
            with session.begin_nested():
                outcomes[case_id] = BulkOutcome(case_id, act(session, case_id, action, user,
                                                             today, opinion))
        except AppError as error:
            outcomes[case_id] = BulkOutcome(case_id, error=error)
    done = [o.case_id for o in outcomes.values() if o.error is None]
    refused = {str(o.case_id): o.error.code
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
