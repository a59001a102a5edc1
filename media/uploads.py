"""Files as a device or a browser sent them, put into a media store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from media.store import CHUNK_SIZE, MediaStore


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


def read_capped(stream: BinaryIO, limit: int) -> tuple[bytes, int]:
    """The first ``limit`` bytes of ``stream``, and how many bytes it held in all: the rest is
    read through and counted, never kept (a hostile part of 90 MB costs ``limit`` bytes of
    memory, not 90 MB)."""
    head = bytearray()
    while len(head) < limit:
        chunk = stream.read(min(CHUNK_SIZE, limit - len(head)))
        if not chunk:
            return bytes(head), len(head)
        head += chunk
    size = len(head)
    while chunk := stream.read(CHUNK_SIZE):
        size += len(chunk)
    return bytes(head), size
