"""Read services of submissions as received from the phones: what the REST API lists and
shows, and what the console (the review queue) and the exports call. Values are returned as
stored (masking by role is the caller's).

A submission belongs to the area of the user who sent it (as the review queue of
``server.submissions.review`` decides); users see the submissions sent inside their area. A
self-declaration's submission can also be read (detail, attachments: the signed 附件1) by the
area the declaration belongs to, which must follow it up; it is not in that area's list, which
stays the submissions sent there (the declarations are listed by ``server.declarations``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, defer

from server.accounts.models import User
from server.audit.services import record
from server.auth import Principal, within
from server.clock import day_start
from server.declarations.queries import declaration_submissions_in
from server.dedup.models import Conflict
from server.errors import AppError
from server.forms.models import Form, FormVersion
from server.listing import SortKey, sorted_by, where_equal
from server.submissions import review
from server.submissions.instance import InstanceError, InstanceValues, instance_values, parse
from server.submissions.models import MediaObject, Submission, SubmissionAttachment

SUBMISSION_SORT = {"received_at": Submission.received_at, "id": Submission.id,
                   "state": Submission.state, "form_id": FormVersion.form_id,
                   "applied_at": Submission.applied_at}
DEFAULT_SORT = (SortKey("received_at", descending=True),)


@dataclass(frozen=True)
class SubmissionView:
    id: int
    instance_id: str
    form_id: str
    form_version: str
    form_title: str
    submitter_id: int
    submitter_username: str
    area_code: str  # the submitter's: a submission belongs to the area it was sent from
    device_id: str | None
    received_at: datetime
    complete: bool
    state: str
    household_id: str | None
    applied_at: datetime | None
    review_note: str | None
    error_count: int
    warning_count: int


@dataclass(frozen=True)
class AttachmentView:
    name: str
    field_path: str | None  # None: a file the form data does not reference
    referenced: bool
    received: bool
    size: int | None
    content_type: str | None
    url: str | None  # where the caller serves a received file (``file_url``)


@dataclass(frozen=True)
class SubmissionConflict:
    id: int
    kind: str
    id_number: str
    status: str
    resolution: str | None


@dataclass(frozen=True)
class SubmissionDetail(SubmissionView):
    problems: list[dict]
    corrections: dict[str, str]
    attachments: list[AttachmentView]
    conflicts: list[SubmissionConflict]


@dataclass(frozen=True)
class StoredAttachment:
    media_sha256: str
    content_type: str


def _readable_here(user: Principal):
    """Sent inside the user's area, or a self-declaration that belongs to it."""
    return or_(within(user, User.area_code),
               Submission.id.in_(declaration_submissions_in(user.area_code)))


def _submissions(user: Principal, declared_here: bool = False) -> Select:
    """Submissions sent inside the user's area; with ``declared_here`` (one submission's
    detail and attachments) also the self-declarations that belong to it — the household's
    area or the declared address, wherever the submitter is (server/declarations)."""
    here = _readable_here(user) if declared_here else within(user, User.area_code)
    return (select(Submission, FormVersion.form_id, FormVersion.version, User.username,
                   User.area_code, Form.title)
            .join(FormVersion, FormVersion.id == Submission.form_version_id)
            .join(Form, Form.id == FormVersion.form_id)
            .join(User, User.id == Submission.submitter_id)
            .where(here)
            .options(defer(Submission.xml)))


def submissions_query(user: Principal, filters: Mapping) -> Select:
    """Rows of the submissions sent inside the user's area, for ``submission_view``;
    ``filters``: ``form_id``, ``state``, ``submitter_id``, ``household_id``, ``reviewable``,
    ``received_from`` and ``received_to`` (days, Beijing time, inclusive), ``sort`` (keys of
    ``SUBMISSION_SORT``; latest received first by default)."""
    query = sorted_by(_submissions(user), filters.get("sort", DEFAULT_SORT), SUBMISSION_SORT,
                      Submission.id.desc())
    query = where_equal(query, filters, FormVersion, "form_id")
    query = where_equal(query, filters, Submission, "state", "submitter_id", "household_id")
    if "reviewable" in filters:
        states = [state.value for state in review.REVIEWABLE]
        query = query.where(Submission.state.in_(states) if filters["reviewable"]
                            else Submission.state.not_in(states))
    if "received_from" in filters:
        query = query.where(Submission.received_at >= day_start(filters["received_from"]))
    if "received_to" in filters:
        query = query.where(Submission.received_at
                            < day_start(filters["received_to"] + timedelta(days=1)))
    return query


def submission_view(row) -> SubmissionView:
    submission, form_id, version, username, area_code, title = row
    problems = submission.problems or []
    return SubmissionView(
        id=submission.id, instance_id=submission.instance_id, form_id=form_id,
        form_version=version, form_title=title, submitter_id=submission.submitter_id,
        submitter_username=username, area_code=area_code, device_id=submission.device_id,
        received_at=submission.received_at, complete=submission.complete,
        state=submission.state, household_id=submission.household_id,
        applied_at=submission.applied_at, review_note=submission.review_note,
        error_count=sum(1 for p in problems if p.get("severity") == "error"),
        warning_count=sum(1 for p in problems if p.get("severity") == "warning"))


def readable_submission(session: Session, user: Principal, submission_id: int,
                        file_url: Callable[[str], str] | None = None) -> SubmissionDetail:
    """The submission (sent inside the user's area, or a self-declaration belonging to it;
    else NOT_FOUND) with its problems, corrections, attachments and conflicts.
    ``file_url(name)`` is where the caller serves a received attachment."""
    row = session.execute(_submissions(user, declared_here=True)
                          .where(Submission.id == submission_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    submission = row[0]
    files = session.execute(
        select(SubmissionAttachment, MediaObject.size, MediaObject.content_type)
        .outerjoin(MediaObject, MediaObject.sha256 == SubmissionAttachment.media_sha256)
        .where(SubmissionAttachment.submission_id == submission_id)
        .order_by(SubmissionAttachment.name)).all()
    conflicts = session.scalars(select(Conflict).where(Conflict.submission_id == submission_id)
                                .order_by(Conflict.id))
    return SubmissionDetail(
        **vars(submission_view(row)),
        problems=submission.problems or [],
        corrections={key: str(value) for key, value in (submission.corrections or {}).items()},
        attachments=[AttachmentView(
            name=attachment.name, field_path=attachment.field_path or None,
            referenced=bool(attachment.field_path),
            received=attachment.media_sha256 is not None, size=size, content_type=content_type,
            url=file_url(attachment.name) if file_url and attachment.media_sha256 else None)
            for attachment, size, content_type in files],
        conflicts=[SubmissionConflict(id=conflict.id, kind=conflict.kind,
                                      id_number=conflict.id_number, status=conflict.status,
                                      resolution=conflict.resolution)
                   for conflict in conflicts])


def submission_values(session: Session, user: Principal, submission_id: int) -> InstanceValues:
    """The answers of a submission the user may read (as ``readable_submission``; else
    NOT_FOUND) by field name, as the phone sent them — a reviewer's corrections are kept apart
    (``SubmissionDetail.corrections``; ``instance.corrected`` lays them over). Values are
    returned unmasked. A stored XML always parses (it was parsed when it arrived); should it
    not, the answers are empty."""
    xml = session.scalar(select(Submission.xml)
                         .join(User, User.id == Submission.submitter_id)
                         .where(Submission.id == submission_id, _readable_here(user)))
    if xml is None:
        raise AppError("NOT_FOUND")
    try:
        return instance_values(parse(xml.encode("utf-8")).root)
    except InstanceError:
        return InstanceValues({}, [], None)


def readable_attachment(session: Session, user: Principal, submission_id: int,
                        name: str) -> StoredAttachment:
    """A received attachment of a submission the user may read (else NOT_FOUND)."""
    row = session.execute(
        select(SubmissionAttachment.media_sha256, MediaObject.content_type)
        .join(Submission, Submission.id == SubmissionAttachment.submission_id)
        .join(User, User.id == Submission.submitter_id)
        .join(MediaObject, MediaObject.sha256 == SubmissionAttachment.media_sha256)
        .where(SubmissionAttachment.submission_id == submission_id,
               SubmissionAttachment.name == name, _readable_here(user))).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return StoredAttachment(row.media_sha256, row.content_type)


def download_attachment(session: Session, user: Principal, submission_id: int,
                        name: str) -> StoredAttachment:
    """``readable_attachment``, for download: an export of personal data, audited."""
    found = readable_attachment(session, user, submission_id, name)
    record(session, "submission.attachment_downloaded", "submission", submission_id, user.id,
           name=name, media_sha256=found.media_sha256)
    return found
