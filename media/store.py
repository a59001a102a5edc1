"""The media store contract: content addressed by SHA-256, plus the URL factory."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

CHUNK_SIZE = 64 * 1024
_KEY_RE = re.compile(r"[0-9a-f]{64}")


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


@runtime_checkable
class MediaStore(Protocol):
    """Immutable blobs addressed by the SHA-256 of their content."""

    def put(self, stream: BinaryIO) -> StoredMedia:
        """Store everything read from `stream`; idempotent for identical content."""
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


def validate_key(key: object) -> str:
    """Return `key` if it is 64 lowercase hex chars, else raise InvalidMediaKey."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise InvalidMediaKey(key)
    return key


def copy_and_hash(source: BinaryIO, target: BinaryIO) -> StoredMedia:
    """Copy `source` to `target` in CHUNK_SIZE pieces, hashing on the way."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return StoredMedia(key=digest.hexdigest(), size=size)


def store_from_url(url: str, **s3_options: Any) -> MediaStore:
    """Build a store from `file:///path`, a plain path, `s3://bucket/prefix` or `memory://`.

    `s3_options` (endpoint_url, region_name, aws_access_key_id, aws_secret_access_key, ...)
    go to boto3 unchanged; boto3 also reads its usual environment variables.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        from media.memory import MemoryMediaStore

        return MemoryMediaStore()
    if scheme == "s3":
        from media.s3 import S3MediaStore

        if not parts.netloc:
            raise ValueError(f"S3 地址缺少存储桶名称：{url}")
        return S3MediaStore(parts.netloc, prefix=unquote(parts.path), **s3_options)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"不支持远程文件地址：{url}")
        return _local(Path(unquote(parts.path)))
    if scheme == "":
        return _local(Path(url))
    raise ValueError(f"不支持的存储地址：{url}")


def _local(root: Path) -> MediaStore:
    from media.local import LocalMediaStore

    return LocalMediaStore(root)
