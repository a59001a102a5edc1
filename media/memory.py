"""An in-memory media store, for unit tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from media.store import (
    MediaNotFound,
    StoredMedia,
    copy_and_hash,
    validate_derived_name,
    validate_key,
)


class MemoryMediaStore:
    """Content-addressed bytes in a dict."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.derived: dict[tuple[str, str], bytes] = {}

    def put(self, stream: BinaryIO) -> StoredMedia:
        buffer = io.BytesIO()
        stored = copy_and_hash(stream, buffer)
        self.objects.setdefault(stored.key, buffer.getvalue())
        return stored

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self._get(key))

    def exists(self, key: str) -> bool:
        return validate_key(key) in self.objects

    def size(self, key: str) -> int:
        return len(self._get(key))

    def put_derived(self, key: str, name: str, content: bytes) -> None:
        self.derived[(validate_key(key), validate_derived_name(name))] = bytes(content)

    def open_derived(self, key: str, name: str) -> BinaryIO:
        try:
            return io.BytesIO(self.derived[(validate_key(key), validate_derived_name(name))])
        except KeyError:
            raise MediaNotFound(key) from None

    def check(self) -> None:
        return None

    def iter_keys(self) -> Iterator[str]:
        yield from list(self.objects)

    def _get(self, key: str) -> bytes:
        try:
            return self.objects[validate_key(key)]
        except KeyError:
            raise MediaNotFound(key) from None
