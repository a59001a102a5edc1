"""Thumbnails of stored photos and signatures, made once with Pillow and kept in the media store
beside their source (a derived object named by the source's SHA-256 and the size), so a page
that shows them again reads them and never decodes the photo twice."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from media.images import DEFAULT_MAX_PIXELS, thumbnail
from media.store import CHUNK_SIZE, MediaNotFound, MediaStore

THUMBNAIL_SIDE = 320  # pixels, the longer side
_SPOOL_IN_MEMORY = 8 * 1024 * 1024


def thumbnail_name(max_side: int) -> str:
    """The derived object's name of a thumbnail of ``max_side`` pixels."""
    return f"thumbnail-{max_side}"


def cached_thumbnail(store: MediaStore, key: str, max_side: int = THUMBNAIL_SIDE, *,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """The JPEG thumbnail of the image stored under ``key``: read from the store if it was made
    before, else made now (upright, on white, at most ``max_side`` a side) and kept.

    Raises MediaNotFound when the source is not stored, ``media.NotAnImage`` when it is not an
    image (nothing is kept then)."""
    name = thumbnail_name(max_side)
    try:
        with store.open_derived(key, name) as cached:
            return cached.read()
    except MediaNotFound:
        pass
    with store.open(key) as source, _seekable(source) as stream:
        made = thumbnail(stream, max_side, max_pixels=max_pixels)
    store.put_derived(key, name, made)
    return made


@contextmanager
def _seekable(stream: BinaryIO) -> Iterator[BinaryIO]:
    """Pillow seeks in what it reads: a stream that cannot (an S3 body) is spooled first."""
    if stream.seekable():
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        shutil.copyfileobj(stream, spool, CHUNK_SIZE)
        spool.seek(0)
        yield spool  # type: ignore[misc]
