"""Use cases of received submissions: ingest one, record a refused one."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from media.images import NotAnImage, verify_image
from media.store import MediaStore, StoredMedia
from server.accounts.models import User
from server.audit.services import record
from server.db import insert_ignoring_duplicates, utcnow
from server.errors import AppError
from server.forms.models import Form, FormVersion
from server.submissions.models import (
    MediaObject,
    RejectedUpload,
    Submission,
    SubmissionAttachment,
)
from sync.instance import Envelope, InstanceError, named_files, parse


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a submission POST, as the web layer received it."""

    name: str
    stream: BinaryIO
    content_type: str


@dataclass(frozen=True)
class IngestResult:
    submission: Submission
    created: bool  # False when the same instanceID had been received before
    added_attachments: int


def parse_instance(xml: bytes) -> Envelope:
    try:
        return parse(xml)
    except InstanceError as exc:
        raise AppError(exc.code, detail=exc.detail) from exc


def form_version_for(session: Session, user: User, envelope: Envelope) -> FormVersion:
    """The published version the instance was filled with, if ``user`` may submit it."""
    form = session.get(Form, envelope.form_id)
    if form is None:
        raise AppError("FORM_NOT_FOUND", form_id=envelope.form_id)
    if not user.collects:
        raise AppError("FORM_NOT_ALLOWED", form_id=envelope.form_id)
    version = session.scalar(
        select(FormVersion).where(
            FormVersion.form_id == form.id, FormVersion.version == envelope.version
        )
    )
    if version is None:
        raise AppError("FORM_VERSION_UNKNOWN", form_id=form.id, version=envelope.version)
    return version


def store_media(session: Session, store: MediaStore, stream: BinaryIO, content_type: str) -> str:
    stored: StoredMedia = store.put(stream)
    insert_ignoring_duplicates(
        session, MediaObject, sha256=stored.key, size=stored.size, content_type=content_type,
        created_at=utcnow(),
    )
    return stored.key


def ingest_submission(
    session: Session,
    store: MediaStore,
    user: User,
    xml: bytes,
    files: Iterable[UploadedFile],
    device_id: str | None = None,
) -> IngestResult:
    """Store a submission and its files; a repeated instanceID adds the files it lacked.

    Refuses (``AppError``) an unknown form or version, files the instance does not name, and
    photos or signatures that are not images; same instanceID with other XML is a conflict.
    """
    envelope = parse_instance(xml)
    version = form_version_for(session, user, envelope)
    expected = named_files(envelope.root, [field["path"] for field in version.binary_fields])
    image_paths = {f["path"] for f in version.binary_fields if f["mediatype"].startswith("image/")}
    files = list(files)
    for upload in files:
        if upload.name not in expected:
            raise AppError("ATTACHMENT_UNEXPECTED", name=upload.name)
        if expected[upload.name] in image_paths:
            _check_image(upload)

    xml_sha256 = hashlib.sha256(xml).hexdigest()
    created = insert_ignoring_duplicates(
        session, Submission, instance_id=envelope.instance_id, form_version_id=version.id,
        submitter_id=user.id, device_id=device_id, xml=xml.decode("utf-8"),
        xml_sha256=xml_sha256, received_at=utcnow(), complete=False,
    )
    submission = session.scalar(
        select(Submission).where(Submission.instance_id == envelope.instance_id)
    )
    if not created and submission.xml_sha256 != xml_sha256:
        raise AppError("SUBMISSION_DUPLICATE_CONFLICT", instance_id=envelope.instance_id)
    if created:
        for name, path in expected.items():
            session.add(SubmissionAttachment(submission=submission, name=name, field_path=path))
        session.flush()

    by_name = {a.name: a for a in submission.attachments}
    added = 0
    for upload in files:
        attachment = by_name[upload.name]
        if attachment.media_sha256 is None:
            attachment.media_sha256 = store_media(session, store, upload.stream,
                                                  upload.content_type)
            attachment.received_at = utcnow()
            added += 1
    submission.complete = all(a.media_sha256 for a in submission.attachments)
    if created or added:
        record(
            session, "submission.received" if created else "submission.attachments_added",
            "submission", submission.id, user.id, instance_id=envelope.instance_id,
            form_id=envelope.form_id, version=envelope.version, attachments=added,
            complete=submission.complete,
        )
    session.flush()
    return IngestResult(submission, created, added)


def _check_image(upload: UploadedFile) -> None:
    try:
        verify_image(upload.stream)
    except NotAnImage as exc:
        raise AppError("ATTACHMENT_NOT_IMAGE", name=upload.name, detail=str(exc)) from exc
    finally:
        upload.stream.seek(0)


def record_rejection(
    sessions: Callable[[], Session],
    store: MediaStore,
    error: AppError,
    user_id: int | None,
    xml: bytes | None,
) -> None:
    """Keep what a refused submission carried, in a transaction of its own.

    The request's own unit of work is rolled back on the error; this one commits, so the helper's
    data can still be recovered from ``rejected_uploads`` and the media store.
    """
    with sessions() as session, session.begin():
        key = None
        if xml:
            key = store_media(session, store, io.BytesIO(xml), "text/xml")
        instance_id = None
        if xml:
            with contextlib.suppress(InstanceError):
                instance_id = parse(xml).instance_id
        rejected = RejectedUpload(
            user_id=user_id, error_code=error.code, message=error.message,
            instance_id=instance_id, media_sha256=key,
        )
        session.add(rejected)
        session.flush()
        record(session, "submission.rejected", "rejected_upload", rejected.id,
               user_id, code=error.code, instance_id=instance_id)
