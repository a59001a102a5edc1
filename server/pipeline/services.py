"""Use cases of the procedures: open a case, act on it, objections, monitoring contacts.

Each change of state goes through ``server.domain.pipeline.transition`` and leaves a CaseEvent
and an audit entry. The facts the rules need (team signatures, open objections, the province's
notice days, the contact, the elimination blockers) are read here from the registry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from media.images import NotAnImage, verify_image
from media.store import CHUNK_SIZE, MediaStore
from server.accounts.models import ROLE_NAMES, Role, User
from server.audit.services import record
from server.auth import Principal
from server.clock import CHINA
from server.db import utcnow
from server.domain import codes
from server.domain.fields import fields_of_stage
from server.domain.figures import FigureKind, FigureMissing
from server.domain.files import PDF_MAGIC, clean_filename, is_pdf
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
    during_case,
    green_channel,
    transition,
)
from server.domain.survey import Problem, read_values
from server.errors import AppError
from server.figures.services import figure_in_force
from server.households.models import EliminationAssessment, Household, MeasureRecord
from server.pipeline.models import Case, CaseEvent, MonitoringContact, Objection
from server.submissions.models import MediaObject, Submission, SubmissionAttachment
from server.submissions.services import UploadedFile, store_media

TEAM_SIGNATURE = "/team_signature"
# The form fields that hold signatures (附件1 applicant, 附件3/附件5 team, 附件5 head).
SIGNATURE_FIELDS = frozenset({"team_signature", "sig_applicant", "sig_head"})
MAX_SIGNATURES = 10  # signature files with one action
MAX_ATTACHMENTS = 10  # documents with one action (公示照片, 评议会议记录, 附件3 …)
BULK_LIMIT = 200  # cases in one bulk action
# Who may act on many cases at once: the reviewing levels (乡镇审核, 县级审定).
BULK_ROLES = frozenset({Role.TOWNSHIP, Role.COUNTY})
# Who records a green-channel measure through the API (the village's 两委 / 驻村工作队 and the
# township that organises the assistance).
MEASURE_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP})
# Who closes an objection after investigating it (the 两委 investigates, SPEC §6; the levels
# above may too) and who pairs or replaces a monitoring contact: not the helpers who collect.
MANAGING_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY})
# The stage-two fields a measure recorded through the API may carry (A39–A52 and effects);
# its date and green-channel flag are set by the service.
MEASURE_FIELDS = tuple(f.name for f in fields_of_stage(2)
                       if f.name not in ("measure_date", "green_channel"))
_MEASURES = frozenset(f.name for f in fields_of_stage(2) if f.code and f.table)


def _require_role(user: Principal, roles: frozenset[Role]) -> None:
    if user.role not in roles:
        raise AppError("FORBIDDEN_ROLE", role=ROLE_NAMES.get(user.role, user.role.value))


def _local_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


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
        opinion: str = "", signatures: list[str] | None = None,
        attachments: list[dict] | None = None) -> Case:
    """Approve, return or reject a case's current step (one transition, logged).

    ``signatures`` are media keys, ``attachments`` the event's records of the documents
    uploaded with the action (see ``act_signed``)."""
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
    _case_in_area(session, objection.case_id, user)
    _require_role(user, MANAGING_ROLES)
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
    _require_role(user, MANAGING_ROLES)
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
    return _case_in_area(session, case_id, user)


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
class CaseSignature:
    """A signature image on a case: uploaded with an action (an event) or from the phone."""

    key: str  # the media store's SHA-256
    source: str  # "event" | "submission"
    at: datetime | None
    event_id: int | None = None
    submission_id: int | None = None
    field: str | None = None  # the form field (team_signature, sig_applicant, sig_head)


def case_signatures(session: Session, case: Case) -> list[CaseSignature]:
    """The signatures uploaded with the case's actions, then those of the submission that
    documents its home verification (the one the team-size rule counts, see ``_evidence``)."""
    found = [CaseSignature(key, "event", at, event_id=event_id)
             for event_id, at, keys in session.execute(
                 select(CaseEvent.id, CaseEvent.at, CaseEvent.signatures)
                 .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
             for key in keys or ()]
    submission_id = _evidence(session, case)
    if submission_id is not None:
        rows = session.execute(
            select(SubmissionAttachment.media_sha256, SubmissionAttachment.field_path,
                   SubmissionAttachment.received_at)
            .where(SubmissionAttachment.submission_id == submission_id,
                   SubmissionAttachment.media_sha256.is_not(None))
            .order_by(SubmissionAttachment.name))
        for key, path, at in rows:
            field = path.rsplit("/", 1)[-1]
            if field in SIGNATURE_FIELDS:
                found.append(CaseSignature(key, "submission", at, submission_id=submission_id,
                                           field=field))
    return found


def signature_content_type(session: Session, case: Case, key: str) -> str:
    """The content type of one of the case's signatures; NOT_FOUND for any other key."""
    if key not in {s.key for s in case_signatures(session, case)}:
        raise AppError("NOT_FOUND")
    return session.scalar(select(MediaObject.content_type)
                          .where(MediaObject.sha256 == key)) or "application/octet-stream"


def case_attachment(session: Session, case: Case, key: str) -> dict:
    """The record of one of the documents uploaded with the case's actions (its first upload,
    if the same file came with several); NOT_FOUND for any other key."""
    for attachments in session.scalars(select(CaseEvent.attachments)
                                       .where(CaseEvent.case_id == case.id)
                                       .order_by(CaseEvent.id)):
        for attachment in attachments or ():
            if attachment["key"] == key:
                return attachment
    raise AppError("NOT_FOUND")


def download_attachment(session: Session, case: Case, key: str, user: Principal) -> dict:
    """One of the case's attachments, for download: an export of personal data, audited."""
    attachment = case_attachment(session, case, key)
    record(session, "case.attachment_downloaded", "case", case.id, user.id,
           name=attachment["name"], media_sha256=key)
    return attachment


# --- acting with signatures and attachments, and on many cases at once ---------------------


def act_signed(session: Session, store: MediaStore, case_id: int, action: Action,
               user: Principal, today: date, opinion: str,
               uploads: Sequence[UploadedFile],
               attachments: Sequence[UploadedFile] = ()) -> Case:
    """``act`` with signature images and documents uploaded at the step, recorded on its event.

    Every file is checked first: a signature must be an image (Pillow), an attachment an image
    or a PDF. One that fails refuses the whole action (SIGNATURE_NOT_IMAGE,
    ATTACHMENT_NOT_ALLOWED) and nothing is stored. The files go to the media store only once
    the rules have let the action through.
    """
    signatures = _checked_files(uploads, MAX_SIGNATURES, "SIGNATURES_TOO_MANY",
                                _signature_type, "签名")
    documents = _checked_files(attachments, MAX_ATTACHMENTS, "ATTACHMENTS_TOO_MANY",
                               _attachment_type, "附件")
    records: dict[str, dict] = {}  # a file sent twice is recorded once, as first named
    for f in documents:
        records.setdefault(f.key, {"key": f.key, "name": f.upload.name,
                                   "content_type": f.upload.content_type, "size": f.size})
    case = act(session, case_id, action, user, today, opinion,
               list(dict.fromkeys(f.key for f in signatures)), list(records.values()))
    store_media(session, store, [f.upload for f in (*signatures, *documents)])
    return case


@dataclass(frozen=True)
class _CheckedFile:
    """An uploaded file that passed its check: its original name (cleaned), the content type
    found in it (not what the client claimed), its SHA-256 and size."""

    upload: UploadedFile
    key: str
    size: int


def _checked_files(uploads: Sequence[UploadedFile], limit: int, too_many: str,
                   content_type_of, fallback_name: str) -> list[_CheckedFile]:
    """Check at most ``limit`` files with ``content_type_of`` (which raises the refusal)."""
    if len(uploads) > limit:
        raise AppError(too_many, limit=limit)
    checked = []
    for upload in uploads:
        name = clean_filename(upload.name, fallback_name)
        content_type = content_type_of(UploadedFile(name, upload.stream, upload.content_type))
        key, size = _digest(upload.stream)
        checked.append(_CheckedFile(UploadedFile(name, upload.stream, content_type), key, size))
    return checked


def _signature_type(upload: UploadedFile) -> str:
    try:
        info = verify_image(upload.stream)
    except NotAnImage as exc:
        raise AppError("SIGNATURE_NOT_IMAGE", name=upload.name, detail=str(exc)) from exc
    return f"image/{info.format.lower()}"


def _attachment_type(upload: UploadedFile) -> str:
    """An image (checked as signatures are) or a PDF (by its header; its inside is not read).

    A file named or sent as a PDF that lacks the header is refused as a fake PDF; anything else
    that is not an image is refused with the image check's reason."""
    try:
        info = verify_image(upload.stream)
    except NotAnImage as exc:
        start = upload.stream.tell()
        head = upload.stream.read(len(PDF_MAGIC))
        upload.stream.seek(start)
        if is_pdf(head):
            return "application/pdf"
        claims_pdf = (upload.name.lower().endswith(".pdf")
                      or upload.content_type == "application/pdf")
        detail = "文件内容不是 PDF（缺少 %PDF- 文件头）" if claims_pdf else str(exc)
        raise AppError("ATTACHMENT_NOT_ALLOWED", name=upload.name, detail=detail) from exc
    return f"image/{info.format.lower()}"


def _digest(stream) -> tuple[str, int]:
    """The SHA-256 and size of a seekable stream's content from its position (kept)."""
    digest, size = hashlib.sha256(), 0
    start = stream.tell()
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(start)
    return digest.hexdigest(), size


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
    _require_role(user, BULK_ROLES)
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


@dataclass(frozen=True)
class CaseMeasure:
    record: MeasureRecord
    green_channel: bool  # taken before the identification ended (帮扶先行)


def case_measures(session: Session, case: Case) -> list[CaseMeasure]:
    """The household's measures dated while the case was open, and those recorded on it.

    The link is made at read time (``domain.pipeline.during_case``), so measures that come in
    through the measures form need no change to the take-in; a measure recorded through the
    API also carries the case's id.
    """
    if case.household_id is None:
        return []
    opened_on = _local_day(case.opened_at)
    closed_on = _local_day(case.closed_at) if case.closed_at else None
    procedure = Procedure(case.procedure)
    rows = session.scalars(select(MeasureRecord).where(
        MeasureRecord.household_id == case.household_id,
        or_(MeasureRecord.case_id == case.id, MeasureRecord.measure_date >= opened_on))
        .order_by(MeasureRecord.measure_date, MeasureRecord.id))
    return [CaseMeasure(row, green_channel(procedure, row.measure_date, opened_on, closed_on)
                        or (row.case_id == case.id
                            and procedure is Procedure.IDENTIFICATION))
            for row in rows
            if row.case_id == case.id or during_case(row.measure_date, opened_on, closed_on)]


def record_measure(session: Session, case_id: int, user: Principal, today: date,
                   values: dict[str, str], measure_date: date | None = None) -> CaseMeasure:
    """Record assistance measures (A39–A52) on an open case, linked to it (village, township).

    On an identification case this is the green channel: help first, the procedure goes on.
    The values are the measures form's (codes as the form writes them, "01 03"), checked by
    the same rules as a submission's.
    """
    _require_role(user, MEASURE_ROLES)
    case = _case_in_area(session, case_id, user)
    if case.status != Status.OPEN.value:
        raise AppError("PIPELINE_RULE", rule="CASE_CLOSED",
                       detail="该案件已办结，不能再登记帮扶措施")
    if case.household_id is None:
        raise AppError("CASE_NO_HOUSEHOLD")
    day = measure_date or today
    opened_on = _local_day(case.opened_at)
    if not during_case(day, opened_on, today):
        raise AppError("MEASURE_INVALID",
                       detail=f"录入日期应在案件开启之日（{opened_on}）至今天之间")
    problems: list[Problem] = []
    typed = read_values(values, [name for name in values if name in MEASURE_FIELDS], today,
                        problems)
    if problems:
        raise AppError("MEASURE_INVALID",
                       detail="；".join(f"{p.field}：{p.message}" for p in problems))
    chosen = sorted(name for name in typed if name in _MEASURES)
    if not chosen:
        raise AppError("MEASURE_INVALID", detail="至少应录入一项帮扶措施（A39–A52）")
    green = case.procedure == Procedure.IDENTIFICATION.value
    stored = {name: " ".join(v) if isinstance(v, tuple) else str(v) for name, v in typed.items()}
    stored.update(measure_date=day.isoformat(), green_channel=codes.YES if green else codes.NO)
    measure = MeasureRecord(household_id=case.household_id, measure_date=day,
                            green_channel=green, case_id=case.id, recorded_by=user.id,
                            values=stored)
    session.add(measure)
    session.flush()
    record(session, "measures.recorded", "household", case.household_id, user.id,
           case=case.id, measure=measure.id, measures=chosen, green_channel=green)
    return CaseMeasure(measure, green)


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
