"""The media store contract: content addressed by SHA-256 (the backends implement it; the
factory that picks one from a URL is ``media.factory``).

Beside each object the store keeps what is made from it — a thumbnail — as a *derived* object,
named by the source's key and a short name (``thumbnail-320``): made once, read many times
(``media.thumbnails``). Derived objects are not content-addressed: they are found by their
source, and may be replaced or made again."""

from __future__ import annotations

import errno
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

CHUNK_SIZE = 64 * 1024
_KEY_RE = re.compile(r"[0-9a-f]{64}")
_DERIVED_NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


@dataclass(frozen=True)
class StoredMedia:
    """What a put() stored: the lowercase hex SHA-256 of the content and its size."""

    key: str
    size: int


class MediaNotFound(LookupError):
    """No media is stored under this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"文件不存在：{key}")
        self.key = key


class InvalidMediaKey(ValueError):
    """The key is not 64 lowercase hex characters."""

    def __init__(self, key: object) -> None:
        super().__init__(f"无效的文件编号：{key!r}")
        self.key = key


class MediaStoreUnavailable(RuntimeError):
    """The store cannot be reached or cannot write now (an S3 server down, a disk failing): a
    later try may succeed. Nothing was half-written: a put stores the whole object or none."""


class MediaStoreFull(MediaStoreUnavailable):
    """The store has no room left (a full disk or quota): nothing was half-written."""


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def store_error(error: OSError) -> MediaStoreUnavailable:
    """The store's error for an operating-system error met while writing."""
    if error.errno in _FULL_ERRNOS:
        return MediaStoreFull(f"媒体存储空间不足：{error}")
    return MediaStoreUnavailable(f"媒体存储无法写入：{error}")


@runtime_checkable
class MediaStore(Protocol):
    """Immutable blobs addressed by the SHA-256 of their content."""

    def put(self, stream: BinaryIO) -> StoredMedia:
        """Store everything read from `stream`; idempotent for identical content. Raises
        ``MediaStoreUnavailable`` (``MediaStoreFull``) when the store cannot take it now."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open the content for reading; raise MediaNotFound if absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether content is stored under `key`."""
        ...

    def size(self, key: str) -> int:
        """Size in bytes; raise MediaNotFound if absent."""
        ...

    def put_derived(self, key: str, name: str, content: bytes) -> None:
        """Keep ``content`` made from the media ``key`` (its thumbnail) under ``name``, beside
        it; an earlier one of that name is replaced. Small, and made again if lost."""
        ...

    def open_derived(self, key: str, name: str) -> BinaryIO:
        """Open what ``put_derived`` kept; raise MediaNotFound if there is none."""
        ...

    def check(self) -> None:
        """Whether the store can be used now (readiness): raise ``MediaStoreUnavailable``
        when it cannot be reached or written to."""
        ...

    def iter_keys(self) -> Iterator[str]:
        """Every key the store holds content under, once each, in no set order (derived
        objects are not listed): what a restore checks and ``verify-media`` counts."""
        ...


def validate_key(key: object) -> str:
    """Return `key` if it is 64 lowercase hex chars, else raise InvalidMediaKey."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise InvalidMediaKey(key)
    return key


def is_key(name: str) -> bool:
    """Whether ``name`` has the shape of a media key (64 lowercase hex characters)."""
    return _KEY_RE.fullmatch(name) is not None


def validate_derived_name(name: object) -> str:
    """Return ``name`` if it may name a derived object (``thumbnail-320``: lowercase letters,
    digits and hyphens, at most 32), else raise InvalidMediaKey."""
    if not isinstance(name, str) or not _DERIVED_NAME_RE.fullmatch(name):
        raise InvalidMediaKey(name)
    return name


def copy_and_hash(source: BinaryIO, target: BinaryIO) -> StoredMedia:
    """Copy `source` to `target` in CHUNK_SIZE pieces, hashing on the way."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return StoredMedia(key=digest.hexdigest(), size=size)
