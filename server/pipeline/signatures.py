"""Signatures and documents of a case's steps: uploaded with an action (checked before
anything is stored), from the phone's verification submission, listed and served per case."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from media.images import NotAnImage, verify_image
from media.store import CHUNK_SIZE, MediaStore
from media.uploads import UploadedFile
from server.audit.services import record
from server.auth import Principal
from server.concurrency import offload
from server.domain.catalogue import Message
from server.domain.files import PDF_MAGIC, clean_filename, is_pdf
from server.domain.pipeline import Action
from server.errors import AppError
from server.pipeline.models import Case, CaseEvent
from server.pipeline.services import (
    PHONE_SIGNERS,
    act_on,
    signature_entries,
    verification_submission,
)
from server.submissions.media import store_media
from server.submissions.models import MediaObject, SubmissionAttachment

# The form fields that hold signatures (附件1 applicant or the photo of the thumbprint,
# 附件3/附件5 team, 附件5 head).
SIGNATURE_FIELDS = frozenset({"team_signature", "sig_applicant", "photo_thumbprint",
                              "sig_head"})
TEAM_SIGNER = "verification_team"  # the phone's team signatures (counted, not a Signer)
MAX_SIGNATURES = 10  # signature files with one action
MAX_ATTACHMENTS = 10  # documents with one action (公示照片, 评议会议记录, 附件3 …)


@dataclass(frozen=True)
class CaseSignature:
    """A signature image on a case: uploaded with an action (an event) or from the phone."""

    key: str  # the media store's SHA-256
    source: str  # "event" | "submission"
    at: datetime | None
    event_id: int | None = None
    submission_id: int | None = None
    field: str | None = None  # the form field (team_signature, sig_applicant, sig_head)
    # In what capacity: a domain.pipeline.Signer value, "verification_team" for the phone's
    # team signatures, None for an upload that named none.
    signer: str | None = None


def case_signatures(session: Session, case: Case) -> list[CaseSignature]:
    """The signatures uploaded with the case's actions, then those of the submission that
    documents its home verification (the one the team-size rule counts, see
    ``verification_submission``)."""
    found = [CaseSignature(entry["key"], "event", at, event_id=event_id, signer=entry["signer"])
             for event_id, at, stored in session.execute(
                 select(CaseEvent.id, CaseEvent.at, CaseEvent.signatures)
                 .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
             for entry in signature_entries(stored)]
    submission_id = verification_submission(session, case)
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
                signer = PHONE_SIGNERS[field].value if field in PHONE_SIGNERS else TEAM_SIGNER
                found.append(CaseSignature(key, "submission", at, submission_id=submission_id,
                                           field=field, signer=signer))
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


def act_signed(session: Session, store: MediaStore, case: Case, action: Action,
               user: Principal, today: date, opinion: str,
               uploads: Sequence[UploadedFile],
               attachments: Sequence[UploadedFile] = (),
               signed: Sequence[tuple[str, UploadedFile]] = ()) -> int:
    """``act_on`` the case (locked by the caller: ``lock_case``) with signature images and
    documents uploaded at the step, recorded on its event; returns the case's new version.

    ``uploads`` are signatures that name no signer; ``signed`` are (signer, file) pairs, the
    signer a ``domain.pipeline.Signer`` value: those are what the approval's signature rule
    counts (SIGNATURE_MISSING). Every file is checked first: a signature must be an image
    (Pillow), an attachment an image or a PDF. One that fails refuses the whole action
    (SIGNATURE_NOT_IMAGE, ATTACHMENT_NOT_ALLOWED) and nothing is stored. The files go to the
    media store only once the rules have let the action through.
    """
    pairs = [(None, u) for u in uploads] + list(signed)
    signatures = _checked_files([u for _, u in pairs], MAX_SIGNATURES, "SIGNATURES_TOO_MANY",
                                _signature_type, "签名")
    documents = _checked_files(attachments, MAX_ATTACHMENTS, "ATTACHMENTS_TOO_MANY",
                               _attachment_type, "附件")
    records: dict[str, dict] = {}  # a file sent twice is recorded once, as first named
    for f in documents:
        records.setdefault(f.key, {"key": f.key, "name": f.upload.name,
                                   "content_type": f.upload.content_type, "size": f.size})
    entries: dict[tuple[str, str | None], dict] = {}  # the same image and signer once
    for (signer, _), f in zip(pairs, signatures, strict=True):
        entries.setdefault((f.key, signer), {"key": f.key, "signer": signer})
    version = act_on(session, case, action, user, today, opinion, list(entries.values()),
                     list(records.values()))
    store_media(session, store, [f.upload for f in (*signatures, *documents)])
    return version


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
        info = offload(verify_image, upload.stream)
    except NotAnImage as exc:
        raise AppError("SIGNATURE_NOT_IMAGE", name=upload.name,
                       reason=Message(exc.code, **exc.params)) from exc
    return f"image/{info.format.lower()}"


def _attachment_type(upload: UploadedFile) -> str:
    """An image (checked as signatures are) or a PDF (by its header; its inside is not read).

    A file named or sent as a PDF that lacks the header is refused as a fake PDF; anything else
    that is not an image is refused with the image check's reason."""
    try:
        info = offload(verify_image, upload.stream)
    except NotAnImage as exc:
        start = upload.stream.tell()
        head = upload.stream.read(len(PDF_MAGIC))
        upload.stream.seek(start)
        if is_pdf(head):
            return "application/pdf"
        claims_pdf = (upload.name.lower().endswith(".pdf")
                      or upload.content_type == "application/pdf")
        reason = (Message("PDF_HEADER_MISSING") if claims_pdf
                  else Message(exc.code, **exc.params))
        raise AppError("ATTACHMENT_NOT_ALLOWED", name=upload.name, reason=reason) from exc
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
