"""Use cases of received submissions: ingest one, record a refused one.

Ingest is the hot path of the server (every phone's every sync), so it speaks SQLAlchemy Core;
a new submission's one write is ``server.submissions.repository.insert_new_submission`` (one
statement on PostgreSQL). Published form versions never change, so what ingest needs of them
is cached per database.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from media.images import NotAnImage, verify_image
from media.store import MediaStore
from media.uploads import UploadedFile
from server.audit.services import record
from server.auth import Principal
from server.concurrency import offload
from server.db import (
    UnitOfWork,
    insert_ignoring_duplicates,
    unit_of,
    utcnow,
)
from server.domain.catalogue import CatalogueError, Message
from server.domain.files import check_attachment_name
from server.errors import AppError
from server.forms.models import Form, FormVersion
from server.submissions.instance import Envelope, InstanceError, named_files, parse
from server.submissions.media import put_media
from server.submissions.models import (
    RejectedUpload,
    Submission,
    SubmissionAttachment,
)
from server.submissions.repository import insert_new_submission

if TYPE_CHECKING:  # the take-in imports the registry, which imports this module
    from server.intake.worker import Stored, TakeIn


@dataclass(frozen=True)
class PublishedVersion:
    """What ingest needs of a form version (immutable once published)."""

    id: int
    form_id: str
    version: str
    binary_paths: tuple[str, ...]
    image_paths: frozenset[str]


@dataclass
class IngestResult:
    submission_id: int
    envelope: Envelope  # the parsed instance: what the registry step reads next
    created: bool  # False when the same instanceID had been received before
    added_attachments: int
    complete: bool
    taken: Stored | None = None  # what the take-in made of a new one, after the commit


# The ``field_path`` of an unreferenced attachment: a file part the instance does not name.
UNREFERENCED = ""
_versions: weakref.WeakKeyDictionary[Engine, dict] = weakref.WeakKeyDictionary()
_versions_lock = threading.Lock()
# How much of a refused submission's XML part is kept (``record_rejection``); the rest is counted.
REFUSED_KEEP_BYTES = 2 * 1024 * 1024


def parse_instance(xml: bytes) -> Envelope:
    try:
        return parse(xml)
    except InstanceError as exc:
        raise AppError.of(exc) from exc


def form_version_for(session: Session, user: Principal, envelope: Envelope) -> PublishedVersion:
    """The published version the instance was filled with, if ``user`` may submit it."""
    if not user.collects:
        raise AppError("FORM_NOT_ALLOWED", form_id=envelope.form_id)
    engine = session.get_bind()
    cache = _versions.get(engine)
    if cache is None:  # once per database; no lock on the hot path after that
        with _versions_lock:
            cache = _versions.setdefault(engine, {})
    key = (envelope.form_id, envelope.version)
    if key not in cache:
        row = session.connection().execute(
            select(FormVersion.id, FormVersion.binary_fields)
            .where(FormVersion.form_id == envelope.form_id,
                   FormVersion.version == envelope.version)
        ).first()
        if row is None:
            if session.get(Form, envelope.form_id) is None:
                raise AppError("FORM_NOT_FOUND", form_id=envelope.form_id)
            raise AppError("FORM_VERSION_UNKNOWN", form_id=envelope.form_id,
                           version=envelope.version)
        cache[key] = PublishedVersion(
            id=row.id, form_id=envelope.form_id, version=envelope.version,
            binary_paths=tuple(f["path"] for f in row.binary_fields),
            image_paths=frozenset(f["path"] for f in row.binary_fields
                                  if f["mediatype"].startswith("image/")),
        )
    return cache[key]


def ingest_submission(
    session: Session,
    store: MediaStore,
    user: Principal,
    xml: bytes,
    files: Iterable[UploadedFile],
    device_id: str | None = None,
    take_in: TakeIn | None = None,
    xml_size: int | None = None,
) -> IngestResult:
    """Store a submission and its files; a repeated instanceID adds the files it lacked.

    ``xml_size``: how many bytes the XML part held, when ``xml`` is only its first bytes (the
    part was read with a cap, ``media.uploads.read_capped``): such a part is refused
    (``XML_TOO_LARGE``) and kept as far as it was read.

    A newly stored submission is handed to ``take_in`` (the app's: inline or queue), which
    takes it in once this unit of work has committed — so it is stored whatever the take-in
    does, on both databases. Refuses (``AppError``) an unknown form or version, and photos or
    signatures the instance names that are not images; same instanceID with other XML is a
    conflict. What a refused submission carried is kept when the unit of work rolls back
    (``record_rejection``, in a unit of its own).

    A file part the instance does not name is kept, never refused: Collect sends every file of
    the instance's folder (``InstanceServerUploader.getFilesInParentDirectory``: all but the XML
    and hidden files), so a photo whose question turned non-relevant, or a leftover temporary
    file, comes with every try, and refusing it would make the submission unsendable. Such a
    part is stored in the media store and listed on the submission as an *unreferenced*
    attachment (``field_path`` empty, ``UNREFERENCED``), whatever its type: it answers no
    question, so it is no form value and is not checked as an image.
    """
    try:
        if xml_size is not None and xml_size > len(xml):
            raise AppError("XML_TOO_LARGE", size=xml_size, limit=len(xml))
        result = _ingest(session, store, user, xml, files, device_id)
    except AppError as error:
        unit = unit_of(session)
        if unit is not None:
            unit.on_rollback(functools.partial(record_rejection, unit.database.unit_of_work,
                                               error, user.id, xml, xml_size))
        raise
    if result.created and take_in is not None:
        result.taken = take_in.submission_stored(session, result.submission_id,
                                                 result.envelope.root)
    return result


def _ingest(session: Session, store: MediaStore, user: Principal, xml: bytes,
            files: Iterable[UploadedFile], device_id: str | None) -> IngestResult:
    envelope = parse_instance(xml)
    version = form_version_for(session, user, envelope)
    expected = named_files(envelope.root, version.binary_paths)
    files = list(files)
    unreferenced: list[str] = []
    for upload in files:
        try:
            check_attachment_name(upload.name)
        except CatalogueError as exc:
            raise AppError.of(exc) from exc
        path = expected.get(upload.name)
        if path is None:
            unreferenced.append(upload.name)
        elif path in version.image_paths:
            _check_image(upload)
    media, media_rows = put_media(store, files)
    xml_sha256 = hashlib.sha256(xml).hexdigest()
    now = utcnow()

    complete = set(expected) <= set(media)
    attachments = [{"name": name, "field_path": path, "media_sha256": media.get(name),
                    "received_at": now if name in media else None}
                   for name, path in expected.items()]
    if unreferenced:
        attachments += [{"name": name, "field_path": UNREFERENCED, "media_sha256": media[name],
                         "received_at": now} for name in dict.fromkeys(unreferenced)]
    details = {"instance_id": envelope.instance_id, "form_id": envelope.form_id,
               "version": envelope.version, "attachments": len(media), "complete": complete}
    if unreferenced:
        details["unreferenced"] = len(set(unreferenced))
    created_id = insert_new_submission(session, {
        "instance_id": envelope.instance_id, "form_version_id": version.id,
        "submitter_id": user.id, "device_id": device_id, "xml": xml.decode("utf-8"),
        "xml_sha256": xml_sha256, "received_at": now, "complete": complete,
    }, attachments, details, media_rows)
    if created_id is not None:
        result = IngestResult(created_id, envelope, True, len(media), complete)
    else:
        result = _add_to_existing(session, envelope, xml_sha256, media, now,
                                  frozenset(unreferenced))
    if result.added_attachments and not result.created:
        record(session, "submission.attachments_added", "submission", result.submission_id,
               user.id, instance_id=envelope.instance_id, form_id=envelope.form_id,
               version=envelope.version, attachments=result.added_attachments,
               complete=result.complete)
    return result


def _add_to_existing(session: Session, envelope: Envelope, xml_sha256: str,
                     media: dict[str, str], now, unreferenced: frozenset[str] = frozenset()
                     ) -> IngestResult:
    """The same instanceID again: same XML adds missing files (and unreferenced ones not kept
    yet); other XML is a conflict."""
    existing = session.execute(
        select(Submission.id, Submission.xml_sha256)
        .where(Submission.instance_id == envelope.instance_id)
    ).one()
    if existing.xml_sha256 != xml_sha256:
        raise AppError("SUBMISSION_DUPLICATE_CONFLICT", instance_id=envelope.instance_id)
    missing = set(session.scalars(
        select(SubmissionAttachment.name).where(
            SubmissionAttachment.submission_id == existing.id,
            SubmissionAttachment.media_sha256.is_(None))
    ))
    added = 0
    if unreferenced:
        kept = set(session.scalars(select(SubmissionAttachment.name).where(
            SubmissionAttachment.submission_id == existing.id,
            SubmissionAttachment.name.in_(unreferenced))))
        for name in sorted(unreferenced - kept):
            added += insert_ignoring_duplicates(
                session, SubmissionAttachment, submission_id=existing.id, name=name,
                field_path=UNREFERENCED, media_sha256=media[name], received_at=now)
    for name in missing & set(media):
        session.execute(
            update(SubmissionAttachment)
            .where(SubmissionAttachment.submission_id == existing.id,
                   SubmissionAttachment.name == name,
                   SubmissionAttachment.media_sha256.is_(None))
            .values(media_sha256=media[name], received_at=now)
        )
        added += 1
    complete = not (missing - set(media))
    if added:
        session.execute(update(Submission).where(Submission.id == existing.id)
                        .values(complete=complete))
    return IngestResult(existing.id, envelope, False, added, complete)


def _check_image(upload: UploadedFile) -> None:
    try:
        # decoding a photo: up to a few hundred ms of CPU, off the event loop under gevent (the
        # upload is already spooled to memory or a temporary file, no socket is read)
        offload(verify_image, upload.stream)
    except NotAnImage as exc:
        raise AppError("ATTACHMENT_NOT_IMAGE", name=upload.name,
                       reason=Message(exc.code, **exc.params)) from exc
    finally:
        upload.stream.seek(0)


def record_rejection(
    units: Callable[[], UnitOfWork],
    error: AppError,
    user_id: int | None,
    xml: bytes | None,
    size: int | None = None,
) -> None:
    """Keep what a refused submission carried, in a unit of work of its own.

    The refusing unit of work has rolled back; this one commits, so the helper's data can still
    be recovered from ``rejected_uploads``: the XML part's first ``REFUSED_KEEP_BYTES`` and
    ``size``, how many bytes it held in all (``xml`` may be only the first bytes of a larger
    part, which ``size`` then counts). Kept until ``prune_rejected``.
    """
    size = len(xml or b"") if size is None else size
    instance_id = None
    if xml and size == len(xml):  # a part cut short would not parse
        with contextlib.suppress(InstanceError):
            instance_id = parse(xml).instance_id
    with units() as unit:
        session = unit.session
        rejected = RejectedUpload(
            user_id=user_id, error_code=error.code, message=error.message,
            instance_id=instance_id, body=xml[:REFUSED_KEEP_BYTES] if xml else None,
            size=size if xml is not None else None,
        )
        session.add(rejected)
        session.flush()
        record(session, "submission.rejected", "rejected_upload", rejected.id,
               user_id, code=error.code, instance_id=instance_id, size=rejected.size)


@dataclass(frozen=True)
class Pruned:
    """What ``prune_rejected`` removed: refused uploads and the bytes of XML they kept."""

    removed: int
    freed: int


def prune_rejected(session: Session, before: datetime, user_id: int | None = None,
                   **audited: object) -> Pruned:
    """Remove the refused uploads received before ``before`` (the retention period's start),
    with the XML they kept; audited as ``rejected_uploads.pruned`` (with ``audited``: the
    period as asked). Rows from before the XML was kept in the row keep their media-store
    object (content-addressed, it may be another file's too): only the row goes."""
    older = RejectedUpload.received_at < before
    removed, freed = session.execute(
        select(func.count(), func.coalesce(func.sum(func.length(RejectedUpload.body)), 0))
        .where(older)).one()
    if removed:
        session.execute(delete(RejectedUpload).where(older))
    record(session, "rejected_uploads.pruned", "rejected_uploads", before.isoformat(), user_id,
           removed=removed, bytes=int(freed), **audited)
    session.flush()
    return Pruned(int(removed), int(freed))
