"""The ``media_objects`` registry: one row per file the media store holds, whichever package
kept it (a submission's attachments, a case's signatures and documents, a warning list).

Putting the bytes is the media package's (``media.uploads``); this module registers them, so
the pipeline and screening services keep files without going through the submission service.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from media.store import MediaStore
from media.uploads import UploadedFile, put_uploads
from server.db import insert_ignoring_duplicates, utcnow
from server.submissions.models import MediaObject


def put_media(store: MediaStore, uploads: Iterable[UploadedFile]
              ) -> tuple[dict[str, str], list[dict]]:
    """Put each upload in the media store: file name → SHA-256, and the ``media_objects`` rows
    that register them (one per distinct file)."""
    keys, stored = put_uploads(store, uploads)
    now = utcnow()
    return keys, [{"sha256": s.key, "size": s.size, "content_type": s.content_type,
                   "created_at": now} for s in stored]


def register_media(session: Session, rows: Iterable[dict]) -> None:
    for row in rows:
        insert_ignoring_duplicates(session, MediaObject, **row)


def store_media(session: Session, store: MediaStore, uploads: Iterable[UploadedFile]
                ) -> dict[str, str]:
    """Put each upload in the media store and register it once; file name → SHA-256."""
    keys, rows = put_media(store, uploads)
    register_media(session, rows)
    return keys
