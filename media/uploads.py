"""Files as a device or a browser sent them, put into a media store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from media.store import MediaStore


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a request, as the web layer received it."""

    name: str
    stream: BinaryIO
    content_type: str


@dataclass(frozen=True)
class StoredUpload:
    """What the store keeps of an upload: its SHA-256, its size and the type it was sent as."""

    key: str
    size: int
    content_type: str


def put_uploads(store: MediaStore, uploads: Iterable[UploadedFile]
                ) -> tuple[dict[str, str], list[StoredUpload]]:
    """Put each upload in ``store``: file name → SHA-256, and each distinct stored file once
    (with the type it was last sent as)."""
    keys: dict[str, str] = {}
    stored: dict[str, StoredUpload] = {}
    for upload in uploads:
        put = store.put(upload.stream)
        keys[upload.name] = put.key
        stored[put.key] = StoredUpload(put.key, put.size, upload.content_type)
    return keys, list(stored.values())
